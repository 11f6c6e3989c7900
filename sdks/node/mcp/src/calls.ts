// Calling a tool: its arguments checked against the manifest's schema, the appliance called
// through the Node SDK, and the answer made a tool result (structured content with a one-line
// summary and the JSON as text), or a tool error (isError) whose text says what to do.
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";

import { ConnectionError, type Faxbot, FaxbotError } from "@faxbot/sdk";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { Ajv2020 } from "ajv/dist/2020.js";

import type { Appliance } from "./appliance.js";
import {
  checkEncodedSize,
  confinedFile,
  decodedDocument,
  saveTarget,
  ToolError,
} from "./documents.js";
import { listing, type Manifest, type ToolSpec, type Transport } from "./manifest.js";

type Args = Record<string, unknown>;
type Json = Record<string, unknown>;

const DOCUMENT_INPUTS = ["text", "path", "content_base64"];

export interface Documents {
  /** Where `path` may point (stdio). */
  directories: string[];
  /** Where `save_as` may write (stdio). */
  saveDir: string | null;
  /** A lower document limit than the manifest's (--document-limit). */
  maxBytes: number | null;
}

/** The most bytes a document of `tool` may hold: the manifest's limit (the appliance's
 * default), or the server's lower one. */
export function documentLimit(tool: ToolSpec, documents: Documents): number | null {
  if (tool.documentMaxBytes === null) {
    return null;
  }
  return Math.min(tool.documentMaxBytes, documents.maxBytes ?? tool.documentMaxBytes);
}

const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false });

export function summary(template: string, content: Json): string {
  return template.replace(/\{(\w+)\}/g, (_, name: string) => {
    if (name === "count") {
      return String(Array.isArray(content.items) ? content.items.length : 0);
    }
    const value = content[name];
    if (value === null || value === undefined) {
      return "none";
    }
    return typeof value === "string" ? value : JSON.stringify(value);
  });
}

type Block = CallToolResult["content"][number];

function result(tool: ToolSpec, content: Json, extra: Block[] = []): CallToolResult {
  return {
    content: [
      { type: "text", text: summary(tool.summary, content) },
      { type: "text", text: JSON.stringify(content) },
      ...extra,
    ],
    structuredContent: content,
  };
}

export function toolError(text: string): CallToolResult {
  return { content: [{ type: "text", text }], isError: true };
}

export function failure(tool: string, error: FaxbotError, hints: Record<string, string>): string {
  if (error instanceof ConnectionError || error.status === null) {
    return `${tool} failed: the appliance did not answer. ${hints.unreachable}`;
  }
  const key = error.status >= 500 ? "5xx" : String(error.status);
  const hint = hints[key] ?? hints["400"];
  return `${tool} failed: ${error.message} (HTTP ${error.status}, code ${error.code ?? "none"}). ${hint}`;
}

export function checkArguments(
  tool: ToolSpec,
  args: Args,
  transport: Transport,
  limit: number | null,
): void {
  if (transport === "http") {
    const local = tool.stdioOnly.filter((name) => name in args).sort();
    if (local.length > 0) {
      throw new ToolError(
        `${local.join(", ")} is offered over stdio only (a file on the server's machine); ` +
          "over HTTP send the document as text or content_base64",
      );
    }
  }
  if (tool.name === "send_fax") {
    const given = DOCUMENT_INPUTS.filter((name) => name in args);
    if (given.length !== 1) {
      throw new ToolError(
        `give exactly one of text, path and content_base64 (given: ${given.join(", ") || "none"})`,
      );
    }
    const encoded = args.content_base64;
    if (typeof encoded === "string" && limit !== null) {
      checkEncodedSize(encoded, limit);
    }
  }
  const validate = ajv.compile(listing(tool, transport).inputSchema as Json);
  if (!validate(args)) {
    const problems = (validate.errors ?? [])
      .map((e) => `${e.instancePath.replace(/^\//, "").replaceAll("/", ".") || "arguments"}: ${e.message}`)
      .join("; ");
    throw new ToolError(`invalid arguments: ${problems}`);
  }
}

type Call = (client: Faxbot) => Promise<unknown>;

function sdkCall(tool: ToolSpec, args: Args, documents: Documents): Call {
  const text = (name: string) => args[name] as string | undefined;
  switch (tool.name) {
    case "send_fax": {
      const limit = documentLimit(tool, documents) ?? 0;
      let document: string | Uint8Array;
      if ("text" in args) {
        document = new TextEncoder().encode(text("text"));
      } else if ("path" in args) {
        document = confinedFile(text("path") as string, documents.directories, limit);
      } else {
        document = decodedDocument(text("content_base64") as string, limit);
      }
      return (c) => c.sendFax(text("to") as string, document, { idempotencyKey: text("idempotency_key") });
    }
    case "get_fax_status":
      return (c) => c.getFaxStatus(text("job_id") as string);
    case "list_faxes":
      return (c) =>
        c.listFaxesPage({
          limit: (args.limit as number | undefined) ?? 50,
          cursor: text("cursor"),
          status: text("status"),
          to: text("to"),
          createdSince: text("created_since"),
          createdUntil: text("created_until"),
        });
    case "list_inbound":
      return (c) =>
        c.listInboundPage({
          limit: (args.limit as number | undefined) ?? 50,
          cursor: text("cursor"),
          to: text("to"),
          from: text("from"),
          receivedSince: text("received_since"),
          receivedUntil: text("received_until"),
        });
    case "get_inbound":
      return (c) => c.getInbound(text("id") as string);
    default:
      throw new ToolError(`${tool.name} is not served by this version of faxbot-mcp`);
  }
}

function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** get_inbound_pdf: the PDF saved under `save_as` (stdio), else embedded in the result as a
 * resource when it is within the manifest's bound; a ToolError past the bound. */
async function inboundPdf(
  client: Faxbot,
  tool: ToolSpec,
  args: Args,
  transport: Transport,
  documents: Documents,
): Promise<[Json, Block[]]> {
  const id = args.id as string;
  const described = { id, content_type: "application/pdf" };
  if ("save_as" in args) {
    const target = saveTarget(args.save_as as string, documents.saveDir);
    if (existsSync(target)) {
      throw new ToolError(`save_as: ${target} already exists; choose another name`);
    }
    const size = await client.downloadInboundPdf(id, target);
    const digest = sha256(readFileSync(target));
    return [{ ...described, size_bytes: size, sha256: digest, embedded: false, saved_to: target }, []];
  }
  const pdf = new Uint8Array(await (await client.getInboundPdf(id)).arrayBuffer());
  const bound = tool.embedMaxBytes ?? 0;
  if (pdf.length > bound) {
    const instead = transport === "stdio" ? "save it with save_as, or download" : "download";
    throw new ToolError(
      `the PDF of ${id} is ${pdf.length} bytes, over the ${bound}-byte bound for a ` +
        `result: ${instead} GET /inbound/${id}/pdf with your API key`,
    );
  }
  const embedded: Block = {
    type: "resource",
    resource: {
      uri: `faxbot://inbound/${id}/pdf`,
      mimeType: "application/pdf",
      blob: Buffer.from(pdf).toString("base64"),
    },
  };
  const found = { size_bytes: pdf.length, sha256: sha256(pdf), embedded: true, saved_to: null };
  return [{ ...described, ...found }, [embedded]];
}

/** The result of calling `name`: never throws for a failure an assistant can act on. */
export async function callTool(
  manifest: Manifest,
  appliance: Appliance,
  token: string,
  visibleTools: ToolSpec[],
  name: string,
  args: Args | undefined,
  transport: Transport,
  documents: Documents,
): Promise<CallToolResult> {
  const tool = visibleTools.find((t) => t.name === name);
  if (tool === undefined) {
    const known = visibleTools.map((t) => t.name).join(", ") || "none";
    return toolError(`${name} is not a tool this server offers to this API key (its tools: ${known})`);
  }
  const given = args ?? {};
  try {
    checkArguments(tool, given, transport, documentLimit(tool, documents));
    const client = appliance.client(token);
    if (tool.name === "get_inbound_pdf") {
      const [content, extra] = await inboundPdf(client, tool, given, transport, documents);
      return result(tool, content, extra);
    }
    const call = sdkCall(tool, given, documents);
    const answer = await call(client);
    return result(tool, answer as Json);
  } catch (error) {
    if (error instanceof ToolError) {
      return toolError(`${name}: ${error.message}. ${manifest.errorHints.arguments}`);
    }
    if (error instanceof FaxbotError) {
      return toolError(failure(name, error, manifest.errorHints));
    }
    throw error;
  }
}
