// listFaxes and listFaxesPage filters: how they reach the appliance's query string, page
// after page (against a stub that records what came in).
import assert from "node:assert/strict";
import { test } from "node:test";

import { Faxbot } from "@faxbot/sdk";

import { jobBody, stub } from "../testing/stub.mjs";

test("status, to, createdSince (a Date) and createdUntil (a string) in the query", async () => {
  const server = await stub([[200, {}, { items: [jobBody({ status: "FAILED" })], next_cursor: null }]]);
  try {
    const faxbot = new Faxbot({ baseUrl: server.url, apiKey: "k" });
    const page = await faxbot.listFaxesPage({
      status: "FAILED",
      to: "+12025550143",
      createdSince: new Date(Date.UTC(2026, 4, 1)),
      createdUntil: "2026-06-01T00:00:00+02:00",
      limit: 10,
    });
    assert.equal(page.items[0].status, "FAILED");
    const [request] = server.requests;
    assert.equal(new URL(request.url, server.url).pathname, "/fax");
    assert.deepEqual(Object.fromEntries(request.query), {
      status: "FAILED",
      to: "+12025550143",
      created_since: "2026-05-01T00:00:00.000Z",
      created_until: "2026-06-01T00:00:00+02:00",
      limit: "10",
    });
    assert.match(request.url, /to=%2B12025550143/, "the + is escaped, not read as a space");
  } finally {
    server.close();
  }
});

test("no filters: none in the query", async () => {
  const server = await stub([[200, {}, { items: [], next_cursor: null }]]);
  try {
    await new Faxbot({ baseUrl: server.url, apiKey: "k" }).listFaxesPage();
    assert.equal(server.requests[0].url, "/fax");
  } finally {
    server.close();
  }
});

test("listFaxes keeps the filters on every page, with the cursor", async () => {
  const server = await stub([
    [200, {}, { items: [jobBody({ id: "a" })], next_cursor: "c1" }],
    [200, {}, { items: [jobBody({ id: "b" })], next_cursor: null }],
  ]);
  try {
    const faxbot = new Faxbot({ baseUrl: server.url, apiKey: "k" });
    const seen = [];
    for await (const job of faxbot.listFaxes({ status: "SUCCESS", limit: 1 })) {
      seen.push(job.id);
    }
    assert.deepEqual(seen, ["a", "b"]);
    const [first, second] = server.requests.map((r) => Object.fromEntries(r.query));
    assert.deepEqual(first, { status: "SUCCESS", limit: "1" });
    assert.deepEqual(second, { status: "SUCCESS", limit: "1", cursor: "c1" });
  } finally {
    server.close();
  }
});

test("a status this SDK does not know can be filtered on", async () => {
  const server = await stub([[200, {}, { items: [], next_cursor: null }]]);
  try {
    await new Faxbot({ baseUrl: server.url, apiKey: "k" }).listFaxesPage({ status: "awaiting_carrier" });
    assert.equal(server.requests[0].query.get("status"), "awaiting_carrier");
  } finally {
    server.close();
  }
});

test("an invalid Date is refused before any request", async () => {
  const faxbot = new Faxbot({ baseUrl: "http://127.0.0.1:9", apiKey: "k" });
  await assert.rejects(faxbot.listFaxesPage({ createdSince: new Date("not a date") }), {
    name: "TypeError",
    message: /createdSince/,
  });
});
