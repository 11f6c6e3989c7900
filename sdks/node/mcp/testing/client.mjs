// A test client on the TypeScript SDK: reads a plan (JSON) on stdin, connects to a server over
// stdio or streamable HTTP, lists its tools, makes the calls, and prints what it saw as JSON.
// Plan: {"stdio": {"command", "args", "env"}} or {"http": {"url", "token", "origin"}}, and
// "calls": [{"name", "arguments"}]. Errors of the protocol are reported, not thrown.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

const chunks = [];
for await (const chunk of process.stdin) {
  chunks.push(chunk);
}
const plan = JSON.parse(Buffer.concat(chunks).toString("utf8"));

let transport;
if (plan.stdio) {
  transport = new StdioClientTransport({ ...plan.stdio, stderr: "inherit" });
} else {
  const headers = {};
  if (plan.http.token) {
    headers.Authorization = `Bearer ${plan.http.token}`;
  }
  if (plan.http.origin) {
    headers.Origin = plan.http.origin;
  }
  transport = new StreamableHTTPClientTransport(new URL(plan.http.url), { requestInit: { headers } });
}
const client = new Client({ name: "faxbot-tests", version: "1.0.0" });
const seen = { calls: [], protocolVersion: null };
// The client tells the transport the negotiated revision (HTTP transports send it as a header).
const setVersion = transport.setProtocolVersion?.bind(transport);
transport.setProtocolVersion = (version) => {
  seen.protocolVersion = version;
  setVersion?.(version);
};
try {
  await client.connect(transport);
  seen.server = client.getServerVersion();
  seen.tools = (await client.listTools()).tools;
  for (const call of plan.calls ?? []) {
    try {
      seen.calls.push(await client.callTool({ name: call.name, arguments: call.arguments }));
    } catch (error) {
      seen.calls.push({ protocolError: String(error?.message ?? error) });
    }
  }
} catch (error) {
  seen.connectError = String(error?.message ?? error);
  seen.connectCode = error?.code ?? null;
} finally {
  await client.close().catch(() => {});
}
process.stdout.write(`${JSON.stringify(seen)}\n`);
