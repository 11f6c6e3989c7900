// Which settings are secret, and what a secret setting may hold: the compiler's rules
// (faxbot.kernel.secrets), restated for the browser so a proposal fails here first.
import type { JsonSchema } from "../api/models";

/** A setting is secret when its schema says `format: password` or `writeOnly: true`. */
export function isSecretSchema(schema: unknown): boolean {
  if (typeof schema !== "object" || schema === null) return false;
  const node = schema as JsonSchema;
  return node.format === "password" || node.writeOnly === true;
}

/** The top-level settings that are secret (the manifests' secrets are all top level). */
export function secretSettings(schema: JsonSchema | undefined): Set<string> {
  const properties = (schema?.properties ?? {}) as Record<string, unknown>;
  return new Set(Object.keys(properties).filter((name) => isSecretSchema(properties[name])));
}

/** What the API shows in `settings` for a secret setting that is set (its reference is in
 *  `secret_references`; a secret with no valid reference is only ever this mask). */
export const MASKED = "********";

const REFERENCE = /^\$\{(?<scheme>[A-Za-z]+):(?<target>[^{}]*)\}$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Why `value` is not an acceptable secret reference, or null when it is one. */
export function referenceProblem(value: string): string | null {
  const match = REFERENCE.exec(value);
  if (match === null || value !== value.trim()) {
    return "a secret setting takes only a reference: ${env:NAME} or ${file:/absolute/path}, never the secret itself";
  }
  const { scheme, target } = match.groups as { scheme: string; target: string };
  if (scheme === "env" && !ENV_NAME.test(target)) {
    return "${env:NAME} needs an environment variable name (letters, digits, '_')";
  }
  if (scheme === "file" && !target.startsWith("/")) {
    return "${file:PATH} needs an absolute path, e.g. ${file:/run/secrets/x}";
  }
  if (scheme !== "env" && scheme !== "file") {
    return `unknown secret reference scheme '${scheme}'; use \${env:NAME} or \${file:/path}`;
  }
  return null;
}
