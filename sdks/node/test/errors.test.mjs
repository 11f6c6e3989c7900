// Typed errors: the class by status, the API's message and details from a real appliance;
// `code` and `requestId` from every place they can come from, against local stubs.
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  AuthenticationError,
  BadRequestError,
  ConnectionError,
  Faxbot,
  FaxbotError,
  NotFoundError,
  PayloadTooLargeError,
  PermissionDeniedError,
  ServerError,
  UnprocessableError,
  UnsupportedMediaTypeError,
} from "@faxbot/sdk";

import { appliance, client, needsAppliance, onePagePdf, readerClient, TO } from "../testing/helpers.mjs";
import { stub } from "../testing/stub.mjs";

/** Assert that `promise` rejects with an instance of `kind` with `status`; return the error. */
async function rejectsWith(promise, kind, status) {
  let caught;
  await assert.rejects(promise, (error) => {
    caught = error;
    return true;
  });
  assert.ok(caught instanceof kind, `${caught?.name}: ${caught?.message} is not a ${kind.name}`);
  assert.ok(caught instanceof FaxbotError);
  assert.equal(caught.name, kind.name);
  assert.equal(caught.status, status);
  assert.equal(typeof caught.message, "string");
  assert.ok(caught.message.length > 0);
  return caught;
}

test("401 AuthenticationError for an invalid key", { skip: needsAppliance }, async () => {
  const faxbot = new Faxbot({ baseUrl: appliance.url, apiKey: "fbk_not_a_real_token" });
  const error = await rejectsWith(faxbot.listFaxesPage(), AuthenticationError, 401);
  assert.equal(typeof error.details, "object");
  assert.doesNotMatch(error.message, /fbk_not_a_real_token/, "the token is not echoed");
});

test("403 PermissionDeniedError for a key without fax:send", { skip: needsAppliance }, async () => {
  const reader = readerClient();
  await reader.listFaxesPage({ limit: 1 }); // fax:read is enough to list
  await rejectsWith(reader.sendFax(TO, onePagePdf()), PermissionDeniedError, 403);
});

test("404 NotFoundError for an unknown job, with the API's message", { skip: needsAppliance }, async () => {
  const error = await rejectsWith(client().getFaxStatus("no-such-job"), NotFoundError, 404);
  assert.match(error.message, /no-such-job/);
  assert.equal(error.details.id, "no-such-job");
});

test("413 PayloadTooLargeError for a document over the upload limit", { skip: needsAppliance }, async () => {
  // the appliance's default limit is 10 MiB (appliance.limits.upload_max_bytes)
  const big = Buffer.concat([Buffer.from("%PDF-1.4\n"), Buffer.alloc(11 * 1024 * 1024, 0x30)]);
  const error = await rejectsWith(client().sendFax(TO, big), PayloadTooLargeError, 413);
  assert.equal(typeof error.details.limit_bytes, "number");
});

test("415 UnsupportedMediaTypeError for a binary that is not a PDF", { skip: needsAppliance }, async () => {
  const png = Buffer.concat([Buffer.from("\x89PNG\r\n\x1a\n", "latin1"), Buffer.alloc(2048, 7)]);
  const error = await rejectsWith(client().sendFax(TO, png), UnsupportedMediaTypeError, 415);
  assert.match(error.message, /PNG/);
});

test("422 UnprocessableError for an unreadable PDF", { skip: needsAppliance }, async () => {
  const broken = Buffer.from("%PDF-1.4\nthis is not really a PDF\n");
  await rejectsWith(client().sendFax(TO, broken), UnprocessableError, 422);
});

test("400 BadRequestError for a number that is not E.164", { skip: needsAppliance }, async () => {
  const error = await rejectsWith(client().sendFax("+1555", onePagePdf()), BadRequestError, 400);
  assert.match(error.message, /E\.164/);
});

test("a 4xx is not retried", { skip: needsAppliance }, async () => {
  const started = Date.now();
  await rejectsWith(client({ maxRetries: 3 }).getFaxStatus("nope"), NotFoundError, 404);
  assert.ok(Date.now() - started < 1000, "answered at once, no backoff");
});

/** The error `call(faxbot)` rejects with, against a stub giving `answers`; and the requests. */
async function errorFrom(answers, call = (faxbot) => faxbot.getFaxStatus("job-1"), options = {}) {
  const server = await stub(answers);
  try {
    const faxbot = new Faxbot({ baseUrl: server.url, apiKey: "k", maxRetries: 0, ...options });
    const error = await call(faxbot).then(
      () => assert.fail("resolved"),
      (e) => e,
    );
    return { error, requests: server.requests };
  } finally {
    server.close();
  }
}

test("code, requestId, details and message from the API's error body", async () => {
  const body = {
    error: "no fax job with id 'job-1'",
    detail: "no fax job with id 'job-1'",
    code: "job_not_found",
    details: { id: "job-1" },
    request_id: "req-from-body",
  };
  const { error } = await errorFrom([[404, { "x-request-id": "req-from-header" }, body]]);
  assert.ok(error instanceof NotFoundError);
  assert.equal(error.status, 404);
  assert.equal(error.code, "job_not_found");
  assert.equal(error.requestId, "req-from-body", "the body's request_id comes first");
  assert.deepEqual(error.details, { id: "job-1" });
  assert.equal(error.message, "no fax job with id 'job-1'");
});

test("a code this SDK does not know is kept as it came", async () => {
  const body = { error: "new rule", code: "recipient_on_do_not_fax_list", details: {}, request_id: "r1" };
  const { error } = await errorFrom([[400, {}, body]]);
  assert.ok(error instanceof BadRequestError);
  assert.equal(error.code, "recipient_on_do_not_fax_list");
});

test("requestId from the X-Request-Id header when the body has none", async () => {
  const { error } = await errorFrom([[502, { "x-request-id": "req-7", "content-type": "text/html" }, "<h1>Bad Gateway</h1>"]]);
  assert.ok(error instanceof ServerError);
  assert.equal(error.requestId, "req-7");
  assert.equal(error.code, null, "a proxy's answer has no API code");
  assert.deepEqual(error.details, {});
  assert.equal(error.message, "HTTP 502 Bad Gateway");
});

test("a v2-era body: the message from `detail`", async () => {
  const { error } = await errorFrom([[422, {}, { detail: "too many pages" }]]);
  assert.ok(error instanceof UnprocessableError);
  assert.equal(error.message, "too many pages");
  assert.equal(error.code, null);
  assert.equal(error.requestId, null);
});

test("no response: requestId is the X-Request-Id the SDK sent", async () => {
  const { error, requests } = await errorFrom(["hang"], undefined, { timeoutMs: 200 });
  assert.ok(error instanceof ConnectionError);
  assert.equal(error.code, null);
  assert.equal(requests.length, 1);
  assert.equal(error.requestId, requests[0].headers["x-request-id"]);
  assert.ok(error.requestId);
});
