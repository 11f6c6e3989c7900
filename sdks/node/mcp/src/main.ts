#!/usr/bin/env node
// faxbot-mcp: the server over stdio (the default) or streamable HTTP (--http). Logs go to
// stderr; over stdio nothing but protocol is written to stdout.
import { parseArgs } from "node:util";

import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";

import { Appliance } from "./appliance.js";
import { serveHttp } from "./http.js";
import { largestDocument, loadManifest } from "./manifest.js";
import { buildServer, log, Tools } from "./server.js";

const BODY_SLACK = 64 * 1024; // JSON-RPC framing around a document sent as content_base64
const USAGE = `usage: faxbot-mcp [--url URL] [--http] [--host H] [--port P] [--allowed-host H]...
                  [--allowed-origin O]... [--read-only] [--documents DIR]... [--save-dir DIR]
                  [--document-limit BYTES]
                  [--timeout SECONDS] [--retries N]
The Faxbot MCP server: over stdio it calls the appliance with FAXBOT_API_KEY; over HTTP with
each caller's bearer key. The appliance URL is --url or FAXBOT_URL.`;

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      url: { type: "string" },
      http: { type: "boolean", default: false },
      host: { type: "string", default: "127.0.0.1" },
      port: { type: "string", default: "8765" },
      "allowed-host": { type: "string", multiple: true, default: [] },
      "allowed-origin": { type: "string", multiple: true, default: [] },
      "read-only": { type: "boolean", default: false },
      documents: { type: "string", multiple: true, default: [] },
      "save-dir": { type: "string" },
      "document-limit": { type: "string" },
      timeout: { type: "string", default: "30" },
      retries: { type: "string", default: "3" },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) {
    process.stderr.write(`${USAGE}\n`);
    return 0;
  }
  const url = values.url ?? process.env.FAXBOT_URL;
  if (!url) {
    log("no appliance URL: pass --url or set FAXBOT_URL");
    return 2;
  }
  const apiKey = process.env.FAXBOT_API_KEY ?? "";
  if (!values.http && !apiKey) {
    log("over stdio the API key comes from FAXBOT_API_KEY");
    return 2;
  }
  const manifest = loadManifest();
  const limit = values["document-limit"] === undefined ? null : Number(values["document-limit"]);
  const appliance = new Appliance({
    url,
    timeoutMs: Number(values.timeout) * 1000,
    maxRetries: Number(values.retries),
  });
  const tools = new Tools(manifest, appliance, {
    transport: values.http ? "http" : "stdio",
    readOnly: values["read-only"],
    documents: { directories: values.documents, saveDir: values["save-dir"] ?? null, maxBytes: limit },
    apiKey: values.http ? null : apiKey,
  });
  if (values.http) {
    await serveHttp(tools, {
      host: values.host,
      port: Number(values.port),
      allowedHosts: values["allowed-host"],
      allowedOrigins: values["allowed-origin"],
      maxBodyBytes: 4 * Math.ceil(Math.min(largestDocument(manifest), limit ?? Infinity) / 3) + BODY_SLACK,
    });
    return -1; // serving until stopped
  }
  await buildServer(tools).connect(new StdioServerTransport());
  return -1;
}

process.on("unhandledRejection", (error) => {
  log(`unexpected: ${error instanceof Error ? error.stack : String(error)}`);
});

main().then(
  (code) => {
    if (code >= 0) {
      process.exitCode = code;
    }
  },
  (error: unknown) => {
    log(error instanceof Error ? (error.stack ?? error.message) : String(error));
    process.exitCode = 1;
  },
);
