// Documents in and out of the tools: a `path` confined to the configured document directories
// (symlinks resolved before the check), `content_base64` refused by its length before it is
// decoded, and a received PDF saved only inside the save directory.
import { realpathSync, statSync } from "node:fs";
import { basename, isAbsolute, join, relative, resolve } from "node:path";

/** A failure the assistant can act on: becomes a tool result with isError. */
export class ToolError extends Error {}

function inside(path: string, base: string): boolean {
  const rel = relative(base, path);
  return rel === "" || (!rel.startsWith("..") && !isAbsolute(rel));
}

export function confinedFile(given: string, roots: string[], maxBytes: number): string {
  if (roots.length === 0) {
    throw new ToolError(
      "path is not enabled: this server has no document directory (start it with " +
        "--documents DIR), so send the document as text or content_base64",
    );
  }
  const bases = roots.map((root) => realpathSync(resolve(root)));
  const candidate = isAbsolute(given) ? given : join(bases[0] as string, given);
  let resolved: string;
  try {
    resolved = realpathSync(candidate);
  } catch {
    throw new ToolError(`path ${JSON.stringify(given)}: no such file in the document directories`);
  }
  if (!bases.some((base) => inside(resolved, base))) {
    throw new ToolError(
      `path ${JSON.stringify(given)} is outside the document directories (${bases.join(", ")}); ` +
        "copy the document into one of them",
    );
  }
  const stat = statSync(resolved);
  if (!stat.isFile()) {
    throw new ToolError(`path ${JSON.stringify(given)} is not a regular file`);
  }
  if (stat.size > maxBytes) {
    throw new ToolError(
      `path ${JSON.stringify(given)} holds ${stat.size} bytes; the limit is ${maxBytes} bytes`,
    );
  }
  return resolved;
}

export function checkEncodedSize(text: string, maxBytes: number): void {
  const longest = 4 * Math.ceil(maxBytes / 3);
  if (text.length > longest) {
    throw new ToolError(
      `content_base64 is ${text.length} characters, over ${longest} (the limit is ` +
        `${maxBytes} bytes decoded): send a smaller document`,
    );
  }
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export function decodedDocument(text: string, maxBytes: number): Uint8Array {
  checkEncodedSize(text, maxBytes);
  if (!BASE64.test(text)) {
    throw new ToolError("content_base64 is not valid base64 (RFC 4648, no line breaks)");
  }
  const document = Buffer.from(text, "base64");
  if (document.length > maxBytes) {
    throw new ToolError(`the document is ${document.length} bytes; the limit is ${maxBytes} bytes`);
  }
  return new Uint8Array(document);
}

export function saveTarget(name: string, directory: string | null): string {
  if (directory === null) {
    throw new ToolError(
      "save_as is not enabled: this server has no save directory (start it with --save-dir DIR)",
    );
  }
  if (basename(name) !== name || name === "." || name === "..") {
    throw new ToolError(`save_as ${JSON.stringify(name)} must be a plain file name, without directories`);
  }
  return join(realpathSync(resolve(directory)), name);
}
