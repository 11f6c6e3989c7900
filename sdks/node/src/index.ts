// @faxbot/sdk: the Faxbot appliance's REST API for Node 20+, on the platform's fetch.
export {
  Faxbot,
  type FaxbotOptions,
  type FaxDocument,
  type ListFaxesOptions,
  type ListFaxesPageOptions,
  type ListInboundOptions,
  type ListInboundPageOptions,
  type Moment,
  type RequestArgs,
  type SendFaxOptions,
  type WaitOptions,
} from "./client.js";
export {
  type AnyErrorCode,
  AuthenticationError,
  BadRequestError,
  ConnectionError,
  type ErrorFields,
  FaxbotError,
  NotFoundError,
  PayloadTooLargeError,
  PermissionDeniedError,
  RateLimitError,
  ServerError,
  UnprocessableError,
  UnsupportedMediaTypeError,
  WaitTimeoutError,
} from "./errors.js";
// FaxJob and FaxJobPage with a status open to values a newer appliance may add; they take
// precedence over the generated ones of the same names exported below.
export {
  type FaxJob,
  type FaxJobPage,
  isTerminal,
  type JobStatus,
  TERMINAL_STATUSES,
} from "./jobs.js";
export * from "./generated/operations.js";
export { RETRY_POLICY } from "./generated/retryPolicy.js";
export type * from "./generated/types.js";
