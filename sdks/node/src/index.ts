// @faxbot/sdk: the Faxbot appliance's REST API for Node 20+, on the platform's fetch.
export {
  Faxbot,
  type FaxbotOptions,
  type FaxDocument,
  type ListFaxesOptions,
  type ListFaxesPageOptions,
  type RequestArgs,
  type SendFaxOptions,
} from "./client.js";
export {
  AuthenticationError,
  BadRequestError,
  ConnectionError,
  FaxbotError,
  NotFoundError,
  PayloadTooLargeError,
  PermissionDeniedError,
  RateLimitError,
  ServerError,
  UnprocessableError,
  UnsupportedMediaTypeError,
} from "./errors.js";
export * from "./generated/operations.js";
export type * from "./generated/types.js";
