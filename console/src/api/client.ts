// The one place that speaks HTTP: every call goes to the appliance that served the console
// (same origin, so the CSP's connect-src 'self' holds), with the key in the X-API-Key header.
import { forgetKey, storedKey } from "../session";

/** Sent on window when the appliance stops accepting the stored key (expired, rotated out). */
export const SIGNED_OUT = "faxbot:signed-out";

export class ApiError extends Error {
  readonly status: number;
  readonly code: string | null;

  constructor(status: number, message: string, code: string | null) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
  }
}

function headers(token: string | null, accept: string): Headers {
  const result = new Headers({ Accept: accept });
  const key = token ?? storedKey();
  if (key !== null) result.set("X-API-Key", key);
  return result;
}

async function failure(response: Response): Promise<ApiError> {
  let message = `${response.status} ${response.statusText}`.trim();
  let code: string | null = null;
  try {
    const body = (await response.json()) as { error?: unknown; detail?: unknown; code?: unknown };
    const text = typeof body.error === "string" ? body.error : body.detail;
    if (typeof text === "string") message = text;
    if (typeof body.code === "string") code = body.code;
  } catch {
    // Not a JSON error body (a proxy's page, say): the status line says enough.
  }
  return new ApiError(response.status, message, code);
}

async function get(path: string, token: string | null, accept: string): Promise<Response> {
  const response = await fetch(path, { headers: headers(token, accept) });
  if (response.ok) return response;
  if (response.status === 401 && token === null) {
    forgetKey();
    window.dispatchEvent(new Event(SIGNED_OUT));
  }
  throw await failure(response);
}

/** GET a JSON document; `token` overrides the stored key (used at sign-in). */
export async function getJson<T>(path: string, token: string | null = null): Promise<T> {
  return (await (await get(path, token, "application/json")).json()) as T;
}

/** GET a binary document (an inbound PDF) as a Blob, authenticated by header. */
export async function getBlob(path: string): Promise<Blob> {
  return await (await get(path, null, "*/*")).blob();
}

/** A query string from the set values only. */
export function query(params: Record<string, string | number | null | undefined>): string {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== null && value !== undefined && value !== "") search.set(name, String(value));
  }
  const text = search.toString();
  return text === "" ? "" : `?${text}`;
}
