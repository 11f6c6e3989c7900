// Retries: a dropped connection against a real appliance (one job, not two), and the retry
// policy (which statuses, Retry-After, backoff, one X-Request-Id per call) against local stubs.
import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer as createTcpServer, connect } from "node:net";
import { test } from "node:test";

import { ConnectionError, Faxbot, RateLimitError, RETRY_POLICY, ServerError } from "@faxbot/sdk";

import { appliance, client, needsAppliance, onePagePdf } from "../testing/helpers.mjs";
import { jobBody, stub } from "../testing/stub.mjs";

/** Only this test sends to this number, so its jobs can be counted on a shared appliance. */
const DROP_TO = "+12025550177";

/** A loopback TCP proxy to `target` that forwards the first POST to the appliance, waits for
 * its answer and then cuts the client's connection instead of passing the answer on: the job
 * exists, but the client saw a network error. Everything else passes through. */
async function droppingProxy(target) {
  const seen = { posts: 0, keys: [] };
  let dropped = false;
  const server = createTcpServer((downstream) => {
    const upstream = connect(Number(target.port), target.hostname);
    let cutThis = false;
    downstream.on("data", (chunk) => {
      const head = chunk.toString("latin1");
      if (head.startsWith("POST ")) {
        seen.posts += 1;
        seen.keys.push(/^idempotency-key: *(.*)\r$/im.exec(head)?.[1]);
        if (!dropped) {
          dropped = true;
          cutThis = true;
        }
      }
      upstream.write(chunk);
    });
    upstream.on("data", (chunk) => {
      if (cutThis) {
        downstream.resetAndDestroy();
        upstream.destroy();
      } else {
        downstream.write(chunk);
      }
    });
    for (const [from, to] of [
      [downstream, upstream],
      [upstream, downstream],
    ]) {
      from.on("end", () => to.end());
      from.on("error", () => to.destroy());
      from.on("close", () => to.destroy());
    }
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return { server, seen, url: `http://127.0.0.1:${server.address().port}` };
}

async function jobsTo(faxbot, number) {
  const found = [];
  for await (const job of faxbot.listFaxes({ limit: 200 })) {
    if (job.to === number) {
      found.push(job);
    }
  }
  return found;
}

test("a dropped connection is retried with the same Idempotency-Key: one job", { skip: needsAppliance }, async () => {
  const direct = client();
  const before = await jobsTo(direct, DROP_TO);
  const proxy = await droppingProxy(new URL(appliance.url));
  try {
    const viaProxy = new Faxbot({ baseUrl: proxy.url, apiKey: appliance.apiKey });
    const job = await viaProxy.sendFax(DROP_TO, onePagePdf());
    assert.equal(proxy.seen.posts, 2, "the first POST was cut off and sent again");
    assert.equal(proxy.seen.keys.length, 2);
    assert.ok(proxy.seen.keys[0], "an Idempotency-Key was generated");
    assert.equal(proxy.seen.keys[1], proxy.seen.keys[0], "the retry reused it");

    const after = await jobsTo(direct, DROP_TO);
    assert.equal(after.length, before.length + 1, "one job, not two");
    const added = after.filter((j) => !before.some((b) => b.id === j.id));
    assert.deepEqual(added.map((j) => j.id), [job.id]);
  } finally {
    proxy.server.close();
  }
});

const JOB = jobBody();
const SLOW_DOWN = [429, { "retry-after": "1" }, { error: "slow down", details: {} }];

test("429 with Retry-After: 1 waits a second, then the same request succeeds", async () => {
  const server = await stub([SLOW_DOWN, [202, {}, JOB]]);
  try {
    const faxbot = new Faxbot({ baseUrl: server.url, apiKey: "k" });
    const job = await faxbot.sendFax("+12025550143", Buffer.from("hello\n"));
    assert.deepEqual(job, JOB);
    assert.equal(server.requests.length, 2);
    const [first, second] = server.requests;
    assert.ok(second.at - first.at >= 950, `waited ${second.at - first.at} ms`);
    assert.ok(first.headers["idempotency-key"]);
    assert.equal(second.headers["idempotency-key"], first.headers["idempotency-key"]);
    assert.equal(first.headers["x-api-key"], "k");
  } finally {
    server.close();
  }
});

test("Retry-After as an HTTP date", async () => {
  const later = new Date(Date.now() + 1500).toUTCString();
  const server = await stub([[503, { "retry-after": later }, { error: "starting" }], [200, {}, JOB]]);
  try {
    const faxbot = new Faxbot({ baseUrl: server.url, apiKey: "k" });
    assert.equal((await faxbot.getFaxStatus(JOB.id)).id, JOB.id);
    const [first, second] = server.requests;
    assert.ok(second.at - first.at >= 400, `waited ${second.at - first.at} ms`);
  } finally {
    server.close();
  }
});

test("5xx until the retries run out: ServerError with the API's message", async () => {
  const server = await stub([[503, { "retry-after": "0" }, { error: "starting", details: { phase: "plugins" } }]]);
  try {
    const faxbot = new Faxbot({ baseUrl: server.url, apiKey: "k", maxRetries: 2 });
    const error = await faxbot.getFaxStatus(JOB.id).catch((e) => e);
    assert.ok(error instanceof ServerError);
    assert.equal(error.status, 503);
    assert.equal(error.message, "starting");
    assert.deepEqual(error.details, { phase: "plugins" });
    assert.equal(server.requests.length, 3, "the first try and 2 retries");
  } finally {
    server.close();
  }
});

test("a Retry-After over a minute is not waited for: the error at once", async () => {
  const later = new Date(Date.now() + 3_600_000).toUTCString();
  for (const [status, retryAfter, kind] of [
    [429, "3600", RateLimitError],
    [503, "61", ServerError],
    [503, later, ServerError],
  ]) {
    const server = await stub([[status, { "retry-after": retryAfter }, { error: "come back later" }], [200, {}, JOB]]);
    try {
      const faxbot = new Faxbot({ baseUrl: server.url, apiKey: "k" });
      const error = await faxbot.getFaxStatus(JOB.id).catch((e) => e);
      assert.ok(error instanceof kind, `${status} Retry-After ${retryAfter}: ${error}`);
      assert.equal(error.message, "come back later");
      assert.equal(server.requests.length, 1, `${status} Retry-After ${retryAfter} was not retried`);
    } finally {
      server.close();
    }
  }
});

test("retried: 408, 429, 500, 502, 503, 504; not retried: 501, 505, other 4xx", async () => {
  const retried = [];
  for (const status of [400, 404, 408, 409, 429, 500, 501, 502, 503, 504, 505, 507]) {
    const server = await stub([[status, { "retry-after": "0" }, { error: `status ${status}` }], [200, {}, JOB]]);
    try {
      const faxbot = new Faxbot({ baseUrl: server.url, apiKey: "k", maxRetries: 1 });
      await faxbot.getFaxStatus(JOB.id).catch(() => undefined);
      if (server.requests.length === 2) {
        retried.push(status);
      }
    } finally {
      server.close();
    }
  }
  assert.deepEqual(retried, [408, 429, 500, 502, 503, 504]);
  assert.deepEqual(retried, [...RETRY_POLICY.retryStatuses], "the policy's statuses, no others");
});

test("every attempt of one call carries the same X-Request-Id; each call its own", async () => {
  const server = await stub([[503, { "retry-after": "0" }, { error: "starting" }], [200, {}, JOB], [200, {}, JOB]]);
  try {
    const faxbot = new Faxbot({ baseUrl: server.url, apiKey: "k" });
    await faxbot.getFaxStatus(JOB.id);
    await faxbot.getFaxStatus(JOB.id);
    const ids = server.requests.map((request) => request.headers["x-request-id"]);
    assert.equal(ids.length, 3);
    assert.match(ids[0], /^[0-9a-f]{32}$/, "32 hex digits, an id the appliance takes as the request's");
    assert.equal(ids[1], ids[0], "the retry reused it");
    assert.notEqual(ids[2], ids[0], "the next call has its own");
  } finally {
    server.close();
  }
});

test("the default number of retries is the policy's", async () => {
  const server = await stub([[503, { "retry-after": "0" }, { error: "starting" }]]);
  try {
    const faxbot = new Faxbot({ baseUrl: server.url, apiKey: "k" });
    assert.equal(faxbot.maxRetries, RETRY_POLICY.maxRetries);
    await assert.rejects(faxbot.getFaxStatus(JOB.id), ServerError);
    assert.equal(server.requests.length, 1 + RETRY_POLICY.maxRetries);
  } finally {
    server.close();
  }
});

test("nothing listening: ConnectionError after the retries", async () => {
  const server = await stub([[200, {}, JOB]]);
  const url = server.url;
  server.close(); // the port is free now: connections are refused
  const faxbot = new Faxbot({ baseUrl: url, apiKey: "k", maxRetries: 1 });
  const error = await faxbot.getFaxStatus(JOB.id).catch((e) => e);
  assert.ok(error instanceof ConnectionError, String(error));
  assert.equal(error.status, null);
  assert.equal(error.details.attempts, 2);
  assert.match(error.message, /ECONNREFUSED/);
  assert.ok(error.cause instanceof Error);
});

test("no answer within timeoutMs: ConnectionError", async () => {
  const server = await stub(["hang"]);
  try {
    const faxbot = new Faxbot({ baseUrl: server.url, apiKey: "k", timeoutMs: 200, maxRetries: 0 });
    const error = await faxbot.getFaxStatus(JOB.id).catch((e) => e);
    assert.ok(error instanceof ConnectionError, String(error));
    assert.match(error.message, /no response within 200 ms/);
    assert.equal(server.requests.length, 1);
  } finally {
    server.close();
  }
});

test("backoff: exponential from 0.5 s up to 8 s, with equal jitter in [c/2, c]", async () => {
  const { backoffMs } = await import("../dist/retry.js");
  assert.deepEqual([0, 1, 2, 3, 4, 5, 9].map((n) => backoffMs(n, () => 1)), [500, 1000, 2000, 4000, 8000, 8000, 8000]);
  assert.deepEqual([0, 1, 4].map((n) => backoffMs(n, () => 0)), [250, 500, 4000]);
  assert.deepEqual([0, 3].map((n) => backoffMs(n, () => 0.5)), [375, 3000]);
});

test("wait's polls: 1 s after the first read, then x1.5 up to 10 s, never past the deadline", async () => {
  const { pollDelayMs } = await import("../dist/retry.js");
  const forever = Number.POSITIVE_INFINITY;
  assert.deepEqual(
    [0, 1, 2, 3, 4, 5, 6, 10].map((n) => pollDelayMs(n, forever)),
    [1000, 1500, 2250, 3375, 5062.5, 7593.75, 10000, 10000],
  );
  assert.equal(pollDelayMs(0, 300), 300);
  assert.equal(pollDelayMs(6, 9999), 9999);
  assert.equal(pollDelayMs(2, -5), 0);
});

test("Retry-After: seconds, HTTP dates, past dates and nonsense", async () => {
  const { retryAfterMs } = await import("../dist/retry.js");
  const now = Date.parse("2026-01-01T00:00:00Z");
  assert.equal(retryAfterMs("2", now), 2000);
  assert.equal(retryAfterMs(" 0 ", now), 0);
  assert.equal(retryAfterMs("Thu, 01 Jan 2026 00:00:03 GMT", now), 3000);
  assert.equal(retryAfterMs("Wed, 31 Dec 2025 23:59:00 GMT", now), 0);
  assert.equal(retryAfterMs("soon", now), undefined);
  assert.equal(retryAfterMs("-1", now), undefined);
  assert.equal(retryAfterMs(null, now), undefined);
});
