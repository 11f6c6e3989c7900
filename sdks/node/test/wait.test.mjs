// wait(): reads the job, polls until SUCCESS or FAILED, goes on through statuses it does not
// know, and rejects at its deadline with the job as last seen. Against a real appliance and
// stubs.
import assert from "node:assert/strict";
import { test } from "node:test";

import { Faxbot, FaxbotError, isTerminal, WaitTimeoutError } from "@faxbot/sdk";

import { client, needsAppliance, onePagePdf, TO } from "../testing/helpers.mjs";
import { jobBody, stub } from "../testing/stub.mjs";

/** A number the appliance's test transport fails to send to. */
const FAILING_TO = "+12025550199";

test("wait resolves with the job at SUCCESS", { skip: needsAppliance }, async () => {
  const faxbot = client();
  const job = await faxbot.sendFax(TO, onePagePdf());
  const done = await faxbot.wait(job.id, { timeoutMs: 60_000 });
  assert.equal(done.id, job.id);
  assert.equal(done.status, "SUCCESS");
});

test("wait resolves (does not reject) with a job that FAILED", { skip: needsAppliance }, async () => {
  const faxbot = client();
  const job = await faxbot.sendFax(FAILING_TO, onePagePdf());
  const done = await faxbot.wait(job.id, { timeoutMs: 60_000 });
  assert.equal(done.status, "FAILED");
  assert.equal(typeof done.error, "string");
});

test("a status this SDK does not know is not final: polling goes on", async () => {
  const server = await stub([
    [200, {}, jobBody({ status: "awaiting_carrier" })],
    [200, {}, jobBody({ status: "awaiting_carrier" })],
    [200, {}, jobBody({ status: "SUCCESS", pages: 2 })],
  ]);
  try {
    const faxbot = new Faxbot({ baseUrl: server.url, apiKey: "k" });
    const now = await faxbot.getFaxStatus(jobBody().id);
    assert.equal(now.status, "awaiting_carrier", "kept as it came");
    assert.equal(isTerminal(now.status), false);
    const done = await faxbot.wait(jobBody().id, { timeoutMs: 60_000 });
    assert.equal(done.status, "SUCCESS");
    assert.equal(done.pages, 2);
    assert.equal(server.requests.length, 3, "getFaxStatus, then wait's first read, then a poll that saw SUCCESS");
    for (const request of server.requests) {
      assert.equal(request.method, "GET");
      assert.equal(request.url, `/fax/${jobBody().id}`);
    }
  } finally {
    server.close();
  }
});

test("at the deadline: WaitTimeoutError with the job as the last poll saw it", async () => {
  let polls = 0;
  const server = await stub([() => [200, {}, jobBody({ status: "in_progress", pages: ++polls })]]);
  try {
    const faxbot = new Faxbot({ baseUrl: server.url, apiKey: "k" });
    const error = await faxbot.wait(jobBody().id, { timeoutMs: 1200 }).catch((e) => e);
    assert.ok(error instanceof WaitTimeoutError, String(error));
    assert.ok(error instanceof FaxbotError);
    assert.equal(error.name, "WaitTimeoutError");
    assert.equal(error.status, null);
    assert.equal(error.timeoutMs, 1200);
    assert.ok(server.requests.length >= 1);
    assert.deepEqual(error.job, jobBody({ status: "in_progress", pages: server.requests.length }));
    assert.match(error.message, /still in_progress after 1200 ms/);
  } finally {
    server.close();
  }
});

test("a job already done: one read, no polling", async () => {
  const server = await stub([[200, {}, jobBody({ status: "FAILED", error: "busy" })]]);
  try {
    const faxbot = new Faxbot({ baseUrl: server.url, apiKey: "k" });
    const done = await faxbot.wait(jobBody().id);
    assert.equal(done.status, "FAILED");
    assert.equal(server.requests.length, 1);
  } finally {
    server.close();
  }
});

test("timeoutMs 0: one read at once, then WaitTimeoutError", async () => {
  const server = await stub([[200, {}, jobBody({ status: "queued" })]]);
  try {
    const faxbot = new Faxbot({ baseUrl: server.url, apiKey: "k" });
    const error = await faxbot.wait(jobBody().id, { timeoutMs: 0 }).catch((e) => e);
    assert.ok(error instanceof WaitTimeoutError, String(error));
    assert.equal(error.job.status, "queued");
    assert.equal(server.requests.length, 1);
  } finally {
    server.close();
  }
});

test("a poll's error rejects wait with it", async () => {
  const server = await stub([[404, {}, { error: "no fax job", code: "job_not_found", details: {} }]]);
  try {
    const faxbot = new Faxbot({ baseUrl: server.url, apiKey: "k" });
    const error = await faxbot.wait("gone", { timeoutMs: 60_000 }).catch((e) => e);
    assert.equal(error.status, 404);
    assert.equal(error.code, "job_not_found");
  } finally {
    server.close();
  }
});

test("wait refuses a negative or missing-number timeout", async () => {
  const faxbot = new Faxbot({ baseUrl: "http://127.0.0.1:9", apiKey: "k" });
  await assert.rejects(faxbot.wait("x", { timeoutMs: -1 }), TypeError);
  await assert.rejects(faxbot.wait("x", { timeoutMs: Number.NaN }), TypeError);
});
