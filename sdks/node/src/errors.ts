// Every failure the client reports is a FaxbotError; the subclass says which kind, so callers
// can `catch (e) { if (e instanceof NotFoundError) ... }` without comparing status codes, and
// `code` says exactly what went wrong, for programs that branch on it.

import type { ErrorCode } from "./generated/types.js";
import type { FaxJob } from "./jobs.js";

/** A code from the API's ErrorCode table, or one a newer appliance added (kept as it came). */
export type AnyErrorCode = ErrorCode | (string & {});

export interface ErrorFields {
  /** The HTTP status; null when no response arrived. */
  status: number | null;
  /** The API's machine-readable `code`; null when the answer had none. */
  code?: AnyErrorCode | null | undefined;
  /** The id of the request, for the appliance's logs. */
  requestId?: string | null | undefined;
  /** The API's `details` object. */
  details?: Record<string, unknown> | undefined;
}

export class FaxbotError extends Error {
  /** The HTTP status, or null when no response arrived (ConnectionError, WaitTimeoutError). */
  readonly status: number | null;
  /** What went wrong, as the API's stable machine-readable code (`job_not_found`,
   * `invalid_number`, `document_too_large`, ... the ErrorCode table in docs/). A code this
   * SDK does not know yet, from a newer appliance, is kept as it came. Null when there was no
   * API answer: no response at all, or one from a proxy in between. */
  readonly code: AnyErrorCode | null;
  /** The request's id, as the appliance logs it: the body's `request_id`, else the response's
   * X-Request-Id header, else (no response) the X-Request-Id the SDK sent. Quote it when
   * asking an operator what happened. */
  readonly requestId: string | null;
  /** The API's `details` object: what was wrong, e.g. `{ limit_bytes: 10485760 }`. */
  readonly details: Record<string, unknown>;

  constructor(message: string, fields: ErrorFields, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.status = fields.status;
    this.code = fields.code ?? null;
    this.requestId = fields.requestId ?? null;
    this.details = fields.details ?? {};
  }
}

/** 400: a missing or invalid field, number or cursor. */
export class BadRequestError extends FaxbotError {}
/** 401: no API key, or an invalid or expired one. */
export class AuthenticationError extends FaxbotError {}
/** 403: the API key lacks the scope the operation needs. */
export class PermissionDeniedError extends FaxbotError {}
/** 404: no such job, plugin or route (a route whose capability is not enabled). */
export class NotFoundError extends FaxbotError {}
/** 413: the document is larger than the appliance's upload limit. */
export class PayloadTooLargeError extends FaxbotError {}
/** 415: the document is neither a PDF nor UTF-8 text. */
export class UnsupportedMediaTypeError extends FaxbotError {}
/** 422: an unreadable PDF, too many pages, or an Idempotency-Key reused for another fax. */
export class UnprocessableError extends FaxbotError {}
/** 429: too many requests, still after the retries. */
export class RateLimitError extends FaxbotError {}
/** 5xx: the appliance failed or is not ready, still after the retries. */
export class ServerError extends FaxbotError {}
/** No response: connection refused or dropped, or the timeout passed, still after the retries. */
export class ConnectionError extends FaxbotError {}

/** `wait()` reached its deadline before the job reached SUCCESS or FAILED. */
export class WaitTimeoutError extends FaxbotError {
  /** The job as the last poll saw it. */
  readonly job: FaxJob;
  /** The timeout that passed. */
  readonly timeoutMs: number;

  constructor(job: FaxJob, timeoutMs: number) {
    super(`fax job ${job.id} is still ${job.status} after ${timeoutMs} ms`, { status: null });
    this.job = job;
    this.timeoutMs = timeoutMs;
  }
}

const BY_STATUS: Record<number, typeof FaxbotError> = {
  400: BadRequestError,
  401: AuthenticationError,
  403: PermissionDeniedError,
  404: NotFoundError,
  413: PayloadTooLargeError,
  415: UnsupportedMediaTypeError,
  422: UnprocessableError,
  429: RateLimitError,
};

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function text(value: unknown): string | null {
  return typeof value === "string" && value !== "" ? value : null;
}

/** The error for a response that is not a success. `body` is its parsed JSON, if any:
 * `{"error", "detail", "code", "details", "request_id"}` from the appliance, or whatever a
 * proxy in between sent; `headers` are the response's. */
export function errorFor(
  status: number,
  body: unknown,
  headers: Headers,
  statusText = "",
): FaxbotError {
  const fields = isRecord(body) ? body : {};
  const fallback = `HTTP ${status}${statusText ? ` ${statusText}` : ""}`;
  const message = text(fields.error) ?? text(fields.detail) ?? fallback;
  const kind = BY_STATUS[status] ?? (status >= 500 ? ServerError : FaxbotError);
  return new kind(message, {
    status,
    code: text(fields.code),
    requestId: text(fields.request_id) ?? text(headers.get("x-request-id")),
    details: isRecord(fields.details) ? fields.details : {},
  });
}
