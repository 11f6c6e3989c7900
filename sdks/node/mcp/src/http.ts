// Streamable HTTP: Host and Origin checked first (DNS rebinding: 421 for a Host, 403 for an
// Origin not allowed), then the caller's own bearer key, which the appliance must know
// (GET /key): 401 without one or with one it refuses, 503 when it cannot be asked. The server
// holds no key of its own and passes each caller's key only to the appliance it serves. Each
// request gets a server and transport of its own (stateless: no session to share).
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";

import { AuthenticationError, FaxbotError } from "@faxbot/sdk";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";

import { buildServer, log, type Tools } from "./server.js";

export const PATH = "/mcp";
const LOOPBACK = ["127.0.0.1", "localhost", "::1"];
const CHALLENGE = { "WWW-Authenticate": 'Bearer realm="faxbot-mcp"' };

export interface HttpOptions {
  host: string;
  port: number;
  allowedHosts: string[];
  allowedOrigins: string[];
  maxBodyBytes: number;
}

/** The Host and Origin values allowed: the loopback names (any port) when bound to loopback,
 * else `host` itself; plus those given. */
export function allowed(options: HttpOptions): { hosts: string[]; origins: string[] } {
  const names = LOOPBACK.includes(options.host) ? LOOPBACK : [options.host];
  const bracket = names.map((n) => (n.includes(":") ? `[${n}]` : n));
  return {
    hosts: [...bracket.map((n) => `${n}:*`), ...bracket, ...options.allowedHosts],
    origins: [...bracket.map((n) => `http://${n}:*`), ...options.allowedOrigins],
  };
}

function matches(value: string, patterns: string[]): boolean {
  return patterns.some((p) =>
    p.endsWith(":*") ? value.startsWith(p.slice(0, -1)) && value.length > p.length - 1 : value === p,
  );
}

function refuse(res: ServerResponse, status: number, message: string, headers: Record<string, string> = {}) {
  const body = { jsonrpc: "2.0", id: null, error: { code: -32001, message } };
  res.writeHead(status, { "Content-Type": "application/json", ...headers });
  res.end(JSON.stringify(body));
}

function bearer(req: IncomingMessage): string | null {
  const [scheme, ...rest] = (req.headers.authorization ?? "").split(" ");
  const token = rest.join(" ").trim();
  return scheme?.toLowerCase() === "bearer" && token ? token : null;
}

export function serveHttp(tools: Tools, options: HttpOptions): Promise<void> {
  const { hosts, origins } = allowed(options);
  const server = createServer(async (req, res) => {
    try {
      const path = (req.url ?? "/").split("?")[0]?.replace(/\/+$/, "");
      if (path !== PATH) {
        res.writeHead(404).end();
        return;
      }
      if (!matches(req.headers.host ?? "", hosts)) {
        res.writeHead(421, { "Content-Type": "text/plain" }).end("Invalid Host header");
        return;
      }
      const origin = req.headers.origin;
      if (origin && !matches(origin, origins)) {
        res.writeHead(403, { "Content-Type": "text/plain" }).end("Invalid Origin header");
        return;
      }
      const token = bearer(req);
      if (token === null) {
        refuse(res, 401, "missing API key: send Authorization: Bearer <your Faxbot API key>", CHALLENGE);
        return;
      }
      let identity;
      try {
        identity = await tools.appliance.identity(token);
      } catch (error) {
        if (error instanceof AuthenticationError) {
          refuse(res, 401, "the appliance refused this API key", CHALLENGE);
        } else if (error instanceof FaxbotError && error.status !== null && error.status < 500) {
          refuse(res, 401, `the appliance refused this API key: ${error.message}`, CHALLENGE);
        } else if (error instanceof FaxbotError) {
          refuse(res, 503, "the Faxbot appliance cannot be reached; retry later");
        } else {
          throw error;
        }
        return;
      }
      const mcp = buildServer(tools);
      const transport = new StreamableHTTPServerTransport({
        // no sessionIdGenerator: stateless
        enableJsonResponse: true,
        maxRequestBodySize: options.maxBodyBytes,
      });
      res.on("close", () => {
        void transport.close();
        void mcp.close();
      });
      await mcp.connect(transport);
      const withAuth = Object.assign(req, {
        auth: { token, clientId: identity.keyId, scopes: identity.scopes },
      });
      await transport.handleRequest(withAuth, res);
    } catch (error) {
      log(`HTTP request failed: ${error instanceof Error ? error.stack : String(error)}`);
      if (!res.headersSent) {
        refuse(res, 500, "faxbot-mcp failed to handle the request");
      }
    }
  });
  return new Promise((resolvePromise, reject) => {
    server.on("error", reject);
    server.listen(options.port, options.host, () => {
      log(`streamable HTTP on http://${options.host}:${options.port}${PATH}`);
      resolvePromise();
    });
  });
}
