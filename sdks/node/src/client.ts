import { randomUUID } from "node:crypto";
import { createWriteStream } from "node:fs";
import { readFile, rename, rm } from "node:fs/promises";
import { basename } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream as WebReadableStream } from "node:stream/web";

import { ConnectionError, errorFor, WaitTimeoutError } from "./errors.js";
import {
  operations,
  type OperationId,
  type OperationRequests,
  type OperationResponses,
  type OperationSpec,
} from "./generated/operations.js";
import { RETRY_POLICY } from "./generated/retryPolicy.js";
import { type FaxJob, type FaxJobPage, isTerminal, type JobStatus } from "./jobs.js";
import {
  backoffMs,
  isRetryableStatus,
  MAX_RETRY_AFTER_MS,
  pollDelayMs,
  retryAfterMs,
  sleep,
} from "./retry.js";

export interface FaxbotOptions {
  /** Where the appliance's REST API answers, e.g. `http://127.0.0.1:8080`; the environment
   * variable FAXBOT_URL when left out. */
  baseUrl?: string | undefined;
  /** A token from `faxbot keys new`, sent as `X-API-Key`; the environment variable
   * FAXBOT_API_KEY when left out. */
  apiKey?: string | undefined;
  /** How long one attempt may take, response body included. */
  timeoutMs?: number | undefined;
  /** How many times a failed request is tried again (network errors, timeouts, 408, 429,
   * 500, 502, 503, 504); 3 unless given. */
  maxRetries?: number | undefined;
}

/** A document to fax: a file path, its bytes, or a Blob (a File keeps its name). */
export type FaxDocument = string | Uint8Array | Blob;

export interface SendFaxOptions {
  /** The same key for the same fax makes one job however often it is sent; generated when
   * left out, and reused on every retry of the call. */
  idempotencyKey?: string | undefined;
}

/** A moment: a Date, or an RFC 3339 date-time string such as `2026-05-01T00:00:00Z`. */
export type Moment = Date | string;

export interface ListFaxesOptions {
  /** Jobs per page, 1-200 (the appliance's default is 50). */
  limit?: number | undefined;
  /** Only jobs at this status. */
  status?: JobStatus | undefined;
  /** Only jobs to this recipient (E.164, e.g. `+12025550143`). */
  to?: string | undefined;
  /** Only jobs created at or after this moment. */
  createdSince?: Moment | undefined;
  /** Only jobs created before this moment. */
  createdUntil?: Moment | undefined;
}

export interface ListFaxesPageOptions extends ListFaxesOptions {
  /** `next_cursor` of the previous page; left out for the first page. */
  cursor?: string | null | undefined;
}

export interface ListInboundOptions {
  /** Received faxes per page, 1-200 (the appliance's default is 50). */
  limit?: number | undefined;
  /** Only faxes to this number of ours (E.164). */
  to?: string | undefined;
  /** Only faxes from this number (E.164). */
  from?: string | undefined;
  /** Only faxes received at or after this moment. */
  receivedSince?: Moment | undefined;
  /** Only faxes received before this moment. */
  receivedUntil?: Moment | undefined;
}

export interface ListInboundPageOptions extends ListInboundOptions {
  /** `next_cursor` of the previous page; left out for the first page. */
  cursor?: string | null | undefined;
}

export interface WaitOptions {
  /** How long to wait for SUCCESS or FAILED before rejecting with a WaitTimeoutError;
   * 5 minutes unless given. */
  timeoutMs?: number | undefined;
}

/** The arguments of `request(id, ...)`: none for an operation that takes nothing. */
export type RequestArgs<Id extends OperationId> = {} extends OperationRequests[Id]
  ? [params?: OperationRequests[Id]]
  : [params: OperationRequests[Id]];

/** The parts of any operation's request, as the generic code below sees them. */
interface RequestParts {
  path?: Record<string, string>;
  query?: Record<string, string | number | boolean | null | undefined>;
  header?: Record<string, string | null | undefined>;
  body?: Record<string, unknown>;
}

/** One answered attempt, its body read in full. */
interface Answer {
  status: number;
  statusText: string;
  headers: Headers;
  body: Blob;
}

const IDEMPOTENT_METHODS = new Set(["GET", "HEAD", "OPTIONS", "PUT", "DELETE"]);
const IDEMPOTENCY_KEY = "Idempotency-Key";
const REQUEST_ID = "X-Request-Id";
const DEFAULT_WAIT_TIMEOUT_MS = 300_000;
const SUCCESS_ONLY: ReadonlySet<number> = new Set();
// The spec documents health_ready's 503 with the success schema (Health); the generated table
// does not carry such statuses yet, so this one is named here.
const NOT_READY_IS_AN_ANSWER: ReadonlySet<number> = new Set([503]);

/** An option, else the environment variable named for it; a TypeError naming both if neither
 * is set. */
function fromEnvironment(option: string | undefined, name: string, variable: string): string {
  const value = option ?? process.env[variable];
  if (value === undefined || value === "") {
    throw new TypeError(
      `${name} is required: pass { ${name} } to new Faxbot() ` +
        `or set the environment variable ${variable}`,
    );
  }
  return value;
}

/** A query value as the appliance reads it: a Date as an RFC 3339 date-time in UTC. */
function moment(value: Moment | undefined, name: string): string | undefined {
  if (!(value instanceof Date)) {
    return value;
  }
  if (Number.isNaN(value.getTime())) {
    throw new TypeError(`${name} is an invalid Date`);
  }
  return value.toISOString();
}

export class Faxbot {
  readonly baseUrl: string;
  readonly timeoutMs: number;
  readonly maxRetries: number;
  readonly #apiKey: string;

  /** A client of the appliance at `baseUrl` (else FAXBOT_URL) with the key `apiKey` (else
   * FAXBOT_API_KEY). */
  constructor({
    baseUrl: givenUrl,
    apiKey: givenKey,
    timeoutMs = 30_000,
    maxRetries = RETRY_POLICY.maxRetries,
  }: FaxbotOptions = {}) {
    const baseUrl = fromEnvironment(givenUrl, "baseUrl", "FAXBOT_URL");
    if (!/^https?:\/\//.test(baseUrl)) {
      throw new TypeError(`baseUrl must be an http(s) URL, got ${JSON.stringify(baseUrl)}`);
    }
    const apiKey = fromEnvironment(givenKey, "apiKey", "FAXBOT_API_KEY");
    if (!(timeoutMs > 0)) {
      throw new TypeError(`timeoutMs must be positive, got ${timeoutMs}`);
    }
    if (!Number.isInteger(maxRetries) || maxRetries < 0) {
      throw new TypeError(`maxRetries must be a whole number >= 0, got ${maxRetries}`);
    }
    this.baseUrl = baseUrl.replace(/\/+$/, "");
    this.#apiKey = apiKey;
    this.timeoutMs = timeoutMs;
    this.maxRetries = maxRetries;
  }

  /** Queue a fax to `to` (E.164, e.g. `+12025550143`); resolves with the job, durable on the
   * appliance. */
  async sendFax(to: string, file: FaxDocument, options: SendFaxOptions = {}): Promise<FaxJob> {
    return this.#call("send_fax", {
      header: { [IDEMPOTENCY_KEY]: options.idempotencyKey ?? randomUUID() },
      body: { to, file: await documentBlob(file) },
    });
  }

  /** The job now: its status, pages, error. */
  getFaxStatus(id: string): Promise<FaxJob> {
    return this.#call("get_fax_status", { path: { job_id: id } });
  }

  /** The job once it is SUCCESS or FAILED. Reads it at once, then polls after 1 s, 1.5 times
   * longer each time up to 10 s, never sleeping past the deadline: there it reads the job a
   * last time and, if it is still not done, rejects with a WaitTimeoutError carrying it. A
   * status this SDK does not know is not final: polling goes on. */
  async wait(
    id: string,
    { timeoutMs = DEFAULT_WAIT_TIMEOUT_MS }: WaitOptions = {},
  ): Promise<FaxJob> {
    if (!(timeoutMs >= 0)) {
      throw new TypeError(`timeoutMs must be >= 0, got ${timeoutMs}`);
    }
    const deadline = performance.now() + timeoutMs;
    let job = await this.getFaxStatus(id);
    for (let poll = 0; !isTerminal(job.status); poll += 1) {
      const left = deadline - performance.now();
      if (left <= 0) {
        throw new WaitTimeoutError(job, timeoutMs);
      }
      await sleep(pollDelayMs(poll, left));
      job = await this.getFaxStatus(id);
    }
    return job;
  }

  /** One page of jobs, newest first, filtered by the options given; pass its `next_cursor` as
   * `cursor` (with the same filters) for the next. */
  async listFaxesPage(options: ListFaxesPageOptions = {}): Promise<FaxJobPage> {
    const { limit, cursor, status, to, createdSince, createdUntil } = options;
    return this.#call("list_faxes", {
      query: {
        limit,
        cursor,
        status,
        to,
        created_since: moment(createdSince, "createdSince"),
        created_until: moment(createdUntil, "createdUntil"),
      },
    });
  }

  /** Every job the filters let through, newest first, fetching page after page as the loop
   * asks for more. */
  async *listFaxes(options: ListFaxesOptions = {}): AsyncGenerator<FaxJob, void, undefined> {
    let cursor: string | null = null;
    do {
      const page: FaxJobPage = await this.listFaxesPage({ ...options, cursor });
      yield* page.items;
      cursor = page.next_cursor;
    } while (cursor !== null);
  }

  /** One page of received faxes (those on the key's numbers), newest first, filtered by the
   * options given; pass its `next_cursor` as `cursor` (with the same filters) for the next. */
  async listInboundPage(
    options: ListInboundPageOptions = {},
  ): Promise<OperationResponses["list_inbound"]> {
    const { limit, cursor, to, from, receivedSince, receivedUntil } = options;
    return this.#call("list_inbound", {
      query: {
        limit,
        cursor,
        to,
        from,
        received_since: moment(receivedSince, "receivedSince"),
        received_until: moment(receivedUntil, "receivedUntil"),
      },
    });
  }

  /** Every received fax the filters let through, newest first, fetching page after page as
   * the loop asks for more. */
  async *listInbound(
    options: ListInboundOptions = {},
  ): AsyncGenerator<OperationResponses["get_inbound"], void, undefined> {
    let cursor: string | null = null;
    do {
      const page: OperationResponses["list_inbound"] = await this.listInboundPage({
        ...options,
        cursor,
      });
      yield* page.items;
      cursor = page.next_cursor;
    } while (cursor !== null);
  }

  /** A received fax: from, to, pages, received_at, provider, and whether retention deleted
   * its document. */
  getInbound(id: string): Promise<OperationResponses["get_inbound"]> {
    return this.#call("get_inbound", { path: { id } });
  }

  /** A received fax's PDF as a Blob, whole in memory; `downloadInboundPdf` streams it to a
   * file instead. */
  getInboundPdf(id: string): Promise<OperationResponses["get_inbound_pdf"]> {
    return this.#call("get_inbound_pdf", { path: { id } });
  }

  /** Stream a received fax's PDF to `path` (written beside it as `<path>.part`, then renamed:
   * `path` never holds part of a PDF); resolves to the number of bytes written. Retried like
   * every read; errors reject as from the other methods. */
  async downloadInboundPdf(id: string, path: string): Promise<number> {
    const operation: OperationSpec = operations.get_inbound_pdf;
    const url = this.#url("get_inbound_pdf", operation, { path: { id } });
    const headers = new Headers({
      "X-API-Key": this.#apiKey,
      Accept: "application/pdf",
      [REQUEST_ID]: randomUUID().replaceAll("-", ""),
    });
    const partial = `${path}.part`;
    let written = 0;
    const sink = async (response: Response): Promise<void> => {
      written = 0;
      const source = Readable.fromWeb(response.body as WebReadableStream<Uint8Array>);
      source.on("data", (chunk: Uint8Array) => {
        written += chunk.length;
      });
      await pipeline(source, createWriteStream(partial));
    };
    try {
      await this.#send(operation.method, url, headers, true, SUCCESS_ONLY, () => undefined, sink);
      await rename(partial, path);
    } finally {
      await rm(partial, { force: true });
    }
    return written;
  }

  /** The plugins this appliance's artifact names, enabled or not. */
  listPlugins(): Promise<OperationResponses["list_plugins"]> {
    return this.#call("list_plugins", {});
  }

  /** A plugin's manifest and enabled state. */
  getPlugin(id: string): Promise<OperationResponses["get_plugin"]> {
    return this.#call("get_plugin", { path: { plugin_id: id } });
  }

  /** A plugin's settings, secrets masked, and the config.d file:line that set each. */
  getPluginConfig(id: string): Promise<OperationResponses["get_plugin_config"]> {
    return this.#call("get_plugin_config", { path: { plugin_id: id } });
  }

  /** The curated registry of plugins, released and planned. */
  getPluginRegistry(): Promise<OperationResponses["get_plugin_registry"]> {
    return this.#call("get_plugin_registry", {});
  }

  /** The running configuration's identity: fingerprint, profile, operations; no secrets. */
  getConfig(): Promise<OperationResponses["get_config"]> {
    return this.#call("get_config", {});
  }

  /** The appliance's state for a support ticket: versions, readiness checks, plugin health,
   * warnings and recent errors, secrets, numbers and tokens masked. */
  getDiagnostics(): Promise<OperationResponses["get_diagnostics"]> {
    return this.#call("get_diagnostics", {});
  }

  /** The calling key: its id, scopes, and the operations this appliance serves that it may
   * call (any valid key may ask about itself). */
  getKey(): Promise<OperationResponses["get_key"]> {
    return this.#call("get_key", {});
  }

  /** Whether the appliance's process is up (no key needed). */
  healthLive(): Promise<OperationResponses["health_live"]> {
    return this.#call("health_live", {});
  }

  /** Whether the appliance is ready: artifact loaded, plugins started, storage and database
   * reachable (no key needed). Not ready is an answer, not an error: the appliance's 503
   * (`status` "not ready", with its `checks`) resolves, at once, without retries. */
  healthReady(): Promise<OperationResponses["health_ready"]> {
    return this.#call("health_ready", {}, NOT_READY_IS_AN_ANSWER);
  }

  /** Any operation of the API by its operationId, typed from the OpenAPI spec, e.g.
   * `request("get_plugin", { path: { plugin_id: "test" } })`. */
  request<Id extends OperationId>(
    id: Id,
    ...[params]: RequestArgs<Id>
  ): Promise<OperationResponses[Id]> {
    return this.#call(id, (params ?? {}) as RequestParts);
  }

  /** One logical call: every attempt carries the same X-Request-Id (and Idempotency-Key).
   * `answers` are statuses besides 2xx whose body is the operation's answer. */
  async #call<Id extends OperationId>(
    id: Id,
    parts: RequestParts,
    answers: ReadonlySet<number> = SUCCESS_ONLY,
  ): Promise<OperationResponses[Id]> {
    const operation: OperationSpec = operations[id];
    const url = this.#url(id, operation, parts);
    const headers = new Headers({
      "X-API-Key": this.#apiKey,
      Accept: "application/json",
      // 32 hex digits, as the Python SDK sends: one id in the appliance's logs for every
      // attempt of the call.
      [REQUEST_ID]: randomUUID().replaceAll("-", ""),
    });
    for (const name of operation.headerParams) {
      const value = parts.header?.[name];
      if (value !== undefined && value !== null) {
        headers.set(name, value);
      }
    }
    if (operation.headerParams.includes(IDEMPOTENCY_KEY) && !headers.has(IDEMPOTENCY_KEY)) {
      headers.set(IDEMPOTENCY_KEY, randomUUID());
    }
    // A POST is tried again only with an Idempotency-Key: the appliance may have acted on
    // the first attempt, and the key makes the second one return that job.
    const retryable = IDEMPOTENT_METHODS.has(operation.method) || headers.has(IDEMPOTENCY_KEY);
    const answer = await this.#send(operation.method, url, headers, retryable, answers, () =>
      encodeBody(operation.body, parts.body),
    );
    return (await decode(operation.response, answer)) as OperationResponses[Id];
  }

  #url(id: string, operation: OperationSpec, parts: RequestParts): URL {
    let path = operation.path;
    for (const name of operation.pathParams) {
      const value = parts.path?.[name];
      if (typeof value !== "string" || value === "") {
        throw new TypeError(`${id}: the path parameter ${name} is required`);
      }
      path = path.replace(`{${name}}`, encodeURIComponent(value));
    }
    const url = new URL(this.baseUrl + path);
    // Every query value given is sent, not only those the generated table lists: the typed
    // `request()` admits only the spec's, and the named methods send what they document.
    for (const [name, value] of Object.entries(parts.query ?? {})) {
      if (value !== undefined && value !== null) {
        url.searchParams.set(name, String(value));
      }
    }
    return url;
  }

  async #send(
    method: string,
    url: URL,
    headers: Headers,
    retryable: boolean,
    answers: ReadonlySet<number>,
    body: () => FormData | string | undefined,
    sink?: (response: Response) => Promise<void>,
  ): Promise<Answer> {
    for (let attempt = 0; ; attempt += 1) {
      const mayRetry = retryable && attempt < this.maxRetries;
      let answer: Answer;
      try {
        const init: RequestInit = { method, headers, signal: AbortSignal.timeout(this.timeoutMs) };
        const payload = body();
        if (payload !== undefined) {
          init.body = payload;
        }
        const response = await fetch(url, init);
        // Read the whole body under the same timeout: a connection dropped halfway is a
        // network error like any other, and is retried like one. A success given to `sink`
        // is streamed there instead (a download), under the same rules.
        const streamed = sink !== undefined && response.status < 300 && response.body !== null;
        if (streamed) {
          await sink(response);
        }
        answer = {
          status: response.status,
          statusText: response.statusText,
          headers: response.headers,
          body: streamed ? new Blob([]) : await response.blob(),
        };
      } catch (error) {
        if (mayRetry) {
          await sleep(backoffMs(attempt));
          continue;
        }
        throw new ConnectionError(
          `${method} ${url.origin}${url.pathname}: ${reason(error, this.timeoutMs)}` +
            ` (${attempt + 1} attempt${attempt === 0 ? "" : "s"})`,
          { status: null, requestId: headers.get(REQUEST_ID), details: { attempts: attempt + 1 } },
          { cause: error },
        );
      }
      if (answer.status < 300 || answers.has(answer.status)) {
        return answer;
      }
      if (mayRetry && isRetryableStatus(answer.status)) {
        const asked = retryAfterMs(answer.headers.get("retry-after"));
        if (asked === undefined || asked <= MAX_RETRY_AFTER_MS) {
          await sleep(asked ?? backoffMs(attempt));
          continue;
        }
      }
      throw errorFor(
        answer.status,
        parseJson(await answer.body.text()),
        answer.headers,
        answer.statusText,
      );
    }
  }
}

async function documentBlob(file: FaxDocument): Promise<Blob> {
  if (typeof file === "string") {
    return new File([await readFile(file)], basename(file));
  }
  if (file instanceof Blob) {
    return file;
  }
  if (file instanceof Uint8Array) {
    return new Blob([file]);
  }
  throw new TypeError("file must be a path, a Uint8Array (or Buffer) or a Blob");
}

function encodeBody(
  kind: OperationSpec["body"],
  body: Record<string, unknown> | undefined,
): FormData | string | undefined {
  if (kind === null || body === undefined) {
    return undefined;
  }
  if (kind === "json") {
    return JSON.stringify(body);
  }
  const form = new FormData();
  for (const [name, value] of Object.entries(body)) {
    if (value instanceof Blob) {
      form.append(name, value, value instanceof File ? value.name : "document");
    } else if (value !== undefined && value !== null) {
      form.append(name, String(value));
    }
  }
  return form;
}

async function decode(kind: OperationSpec["response"], answer: Answer): Promise<unknown> {
  if (kind === "binary") {
    return answer.body;
  }
  if (kind === "empty") {
    return undefined;
  }
  return JSON.parse(await answer.body.text()) as unknown;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function reason(error: unknown, timeoutMs: number): string {
  if (error instanceof Error && error.name === "TimeoutError") {
    return `no response within ${timeoutMs} ms`;
  }
  // fetch says only "fetch failed"; what happened (ECONNREFUSED, "other side closed") is in
  // its cause.
  const cause = error instanceof Error ? error.cause : undefined;
  if (cause instanceof Error) {
    const code = (cause as { code?: unknown }).code;
    return typeof code === "string" && !cause.message.includes(code)
      ? `${cause.message} (${code})`
      : cause.message;
  }
  return error instanceof Error ? error.message : String(error);
}
