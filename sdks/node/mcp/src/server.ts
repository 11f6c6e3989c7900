// The MCP server: tools/list and tools/call from the manifest, gated per caller. Over stdio the
// caller is the key in FAXBOT_API_KEY; over HTTP each request's bearer key (checked before the
// request reaches here, see http.ts), so no two callers share an identity.
import { FaxbotError } from "@faxbot/sdk";
import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import {
  CallToolRequestSchema,
  type CallToolResult,
  ListToolsRequestSchema,
  type Tool,
} from "@modelcontextprotocol/sdk/types.js";

import type { Appliance } from "./appliance.js";
import { callTool, type Documents, toolError } from "./calls.js";
import { listing, type Manifest, type ToolSpec, type Transport, visible } from "./manifest.js";

export const NAME = "faxbot";
export const VERSION = "3.0.0-dev.0";
const INSTRUCTIONS =
  "Send faxes and follow them on a Faxbot appliance. send_fax queues a fax and returns its " +
  "job; get_fax_status tells where it is (queued, in_progress, SUCCESS, FAILED). Received " +
  "faxes, when this key may read them: list_inbound, get_inbound, get_inbound_pdf.";

export interface Settings {
  transport: Transport;
  readOnly: boolean;
  documents: Documents;
  /** stdio: the key of FAXBOT_API_KEY. */
  apiKey: string | null;
}

export function log(message: string): void {
  process.stderr.write(`faxbot-mcp: ${message}\n`);
}

export class Tools {
  constructor(
    readonly manifest: Manifest,
    readonly appliance: Appliance,
    readonly settings: Settings,
  ) {}

  token(authToken: string | undefined): string {
    return this.settings.transport === "stdio" ? (this.settings.apiKey ?? "") : (authToken ?? "");
  }

  /** The tools the key may use here; when the appliance cannot say (down, or the key refused),
   * every tool of the manifest (read-only mode still applies): a call then answers with a tool
   * error that says why, which helps an assistant more than no tools. */
  async visible(token: string): Promise<ToolSpec[]> {
    const readOnly = this.settings.readOnly;
    try {
      const identity = await this.appliance.identity(token);
      return visible(this.manifest, identity.operations, readOnly);
    } catch (error) {
      if (!(error instanceof FaxbotError)) {
        throw error;
      }
      log(`GET /key failed, tools listed ungated: ${error.message}`);
      return visible(this.manifest, this.manifest.tools.map((t) => t.operationId), readOnly);
    }
  }
}

export function buildServer(tools: Tools): Server {
  const server = new Server(
    { name: NAME, version: VERSION, title: "Faxbot" },
    { capabilities: { tools: {} }, instructions: INSTRUCTIONS },
  );
  const transport = tools.settings.transport;
  server.setRequestHandler(ListToolsRequestSchema, async (_request, extra) => {
    const found = await tools.visible(tools.token(extra.authInfo?.token));
    return { tools: found.map((tool) => listing(tool, transport) as Tool) };
  });
  server.setRequestHandler(CallToolRequestSchema, async (request, extra): Promise<CallToolResult> => {
    const token = tools.token(extra.authInfo?.token);
    const { name, arguments: args } = request.params;
    try {
      return await callTool(
        tools.manifest,
        tools.appliance,
        token,
        await tools.visible(token),
        name,
        args,
        transport,
        tools.settings.documents,
      );
    } catch (error) {
      // the server never crashes on a call; the log says what happened
      log(`tool ${name} failed unexpectedly: ${error instanceof Error ? error.stack : String(error)}`);
      return toolError(`${name} failed inside faxbot-mcp`);
    }
  });
  return server;
}
