// Every failure the client reports is a FaxbotError; the subclass says which kind, so callers
// can `catch (e) { if (e instanceof NotFoundError) ... }` without comparing status codes.

export class FaxbotError extends Error {
  /** The HTTP status, or null when no response arrived (ConnectionError). */
  readonly status: number | null;
  /** The API's `details` object: what was wrong, e.g. `{ limit_bytes: 10485760 }`. */
  readonly details: Record<string, unknown>;

  constructor(
    message: string,
    status: number | null,
    details: Record<string, unknown> = {},
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = new.target.name;
    this.status = status;
    this.details = details;
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

/** The error for a response that is not a success. `body` is its parsed JSON, if any:
 * `{"error": ..., "details": {...}}` from the appliance, or whatever a proxy in between sent. */
export function errorFor(status: number, body: unknown, statusText = ""): FaxbotError {
  const fields = isRecord(body) ? body : {};
  const message =
    typeof fields.error === "string"
      ? fields.error
      : typeof fields.detail === "string"
        ? fields.detail
        : `HTTP ${status}${statusText ? ` ${statusText}` : ""}`;
  const details = isRecord(fields.details) ? fields.details : {};
  const kind = BY_STATUS[status] ?? (status >= 500 ? ServerError : FaxbotError);
  return new kind(message, status, details);
}
