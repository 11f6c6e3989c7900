// Every operation of the spec is a named method of the client: the set comes from the
// generated operations table, so an operation added to the API fails here until it has one.
import assert from "node:assert/strict";
import { test } from "node:test";

import { Faxbot, operations } from "@faxbot/sdk";

import { client, needsAppliance } from "../testing/helpers.mjs";
import { stub } from "../testing/stub.mjs";

/** The method for an operationId: `get_fax_status` -> `getFaxStatus`. */
function methodName(operationId) {
  return operationId.replace(/_([a-z])/g, (_, letter) => letter.toUpperCase());
}

/** How to call an operation's method: its path parameters in order, except where the method
 * takes more (a fax to send) or is an iterator (every page of a list). */
const CALLS = {
  send_fax: (faxbot) => faxbot.sendFax("+12025550143", Buffer.from("hello\n")),
  list_faxes: async (faxbot) => {
    for await (const _ of faxbot.listFaxes()) {
      // the stub's page is empty
    }
  },
  list_inbound: async (faxbot) => {
    for await (const _ of faxbot.listInbound()) {
      // the stub's page is empty
    }
  },
};

test("every operation in the spec has a named method", () => {
  const ids = Object.keys(operations);
  assert.ok(ids.length >= 10, `${ids.length} operations`);
  const missing = ids.filter((id) => typeof Faxbot.prototype[methodName(id)] !== "function");
  assert.deepEqual(missing, [], "operations without a named method on Faxbot");
});

test("each named method calls its own operation: method, path and parameters", async () => {
  const server = await stub([[200, {}, { items: [], next_cursor: null }]]);
  try {
    const faxbot = new Faxbot({ baseUrl: server.url, apiKey: "k" });
    for (const [id, operation] of Object.entries(operations)) {
      const before = server.requests.length;
      const call =
        CALLS[id] ?? ((f) => f[methodName(id)](...operation.pathParams.map((name) => `${name}-1`)));
      await call(faxbot);
      assert.equal(server.requests.length, before + 1, `${id}: one request`);
      const request = server.requests.at(-1);
      const path = operation.path.replace(/\{(\w+)\}/g, (_, name) => `${name}-1`);
      assert.equal(request.method, operation.method, id);
      assert.equal(new URL(request.url, server.url).pathname, path, id);
    }
  } finally {
    server.close();
  }
});

test("healthReady: the appliance's 503 (not ready) is its answer, not retried", async () => {
  const notReady = { status: "not ready", checks: { plugins: "starting" } };
  const server = await stub([[503, {}, notReady]]);
  try {
    const faxbot = new Faxbot({ baseUrl: server.url, apiKey: "k" });
    assert.deepEqual(await faxbot.healthReady(), notReady);
    assert.equal(server.requests.length, 1);
  } finally {
    server.close();
  }
});

test("the read operations answer from a real appliance", { skip: needsAppliance }, async () => {
  const faxbot = client();
  const config = await faxbot.getConfig();
  assert.equal(typeof config.fingerprint, "string");
  assert.ok(config.operations.includes("send_fax"));
  const key = await faxbot.getKey();
  assert.equal(typeof key.id, "string");
  assert.ok(key.operations.includes("get_key"));
  const plugins = await faxbot.listPlugins();
  assert.deepEqual(plugins.map((p) => p.id).sort(), ["local", "test"]);
  assert.equal((await faxbot.getPlugin("test")).id, "test");
  assert.equal(typeof (await faxbot.getPluginConfig("test")).slots, "object");
  assert.ok(Array.isArray((await faxbot.getPluginRegistry()).plugins));
  assert.equal((await faxbot.healthLive()).status, "ok");
  assert.equal((await faxbot.healthReady()).status, "ready");
});
