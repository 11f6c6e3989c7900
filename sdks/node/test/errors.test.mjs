// Typed errors from a real appliance: the class by status, the API's message and details.
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  AuthenticationError,
  BadRequestError,
  Faxbot,
  FaxbotError,
  NotFoundError,
  PayloadTooLargeError,
  PermissionDeniedError,
  UnprocessableError,
  UnsupportedMediaTypeError,
} from "@faxbot/sdk";

import { appliance, client, needsAppliance, onePagePdf, readerClient, TO } from "../testing/helpers.mjs";

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
