// new Faxbot() without options: FAXBOT_URL and FAXBOT_API_KEY from the environment, and a
// clear error naming the one that is missing.
import assert from "node:assert/strict";
import { afterEach, beforeEach, test } from "node:test";

import { Faxbot } from "@faxbot/sdk";

import { jobBody, stub } from "../testing/stub.mjs";

const NAMES = ["FAXBOT_URL", "FAXBOT_API_KEY"];
let saved = {};

beforeEach(() => {
  saved = Object.fromEntries(NAMES.map((name) => [name, process.env[name]]));
});

afterEach(() => {
  for (const [name, value] of Object.entries(saved)) {
    if (value === undefined) {
      delete process.env[name];
    } else {
      process.env[name] = value;
    }
  }
});

test("new Faxbot() reads FAXBOT_URL and FAXBOT_API_KEY", async () => {
  const server = await stub([[200, {}, jobBody()]]);
  try {
    process.env.FAXBOT_URL = `${server.url}/`;
    process.env.FAXBOT_API_KEY = "key-from-env";
    const faxbot = new Faxbot();
    assert.equal(faxbot.baseUrl, server.url);
    await faxbot.getFaxStatus(jobBody().id);
    assert.equal(server.requests[0].headers["x-api-key"], "key-from-env");
  } finally {
    server.close();
  }
});

test("options win over the environment", async () => {
  const server = await stub([[200, {}, jobBody()]]);
  try {
    process.env.FAXBOT_URL = "http://127.0.0.1:9";
    process.env.FAXBOT_API_KEY = "key-from-env";
    const faxbot = new Faxbot({ baseUrl: server.url, apiKey: "key-given" });
    await faxbot.getFaxStatus(jobBody().id);
    assert.equal(server.requests[0].headers["x-api-key"], "key-given");
  } finally {
    server.close();
  }
});

test("a missing variable is named", () => {
  delete process.env.FAXBOT_URL;
  process.env.FAXBOT_API_KEY = "key-from-env";
  assert.throws(() => new Faxbot(), { name: "TypeError", message: /FAXBOT_URL/ });
  process.env.FAXBOT_URL = "http://127.0.0.1:8080";
  process.env.FAXBOT_API_KEY = "";
  assert.throws(() => new Faxbot(), (error) => {
    assert.ok(error instanceof TypeError);
    assert.match(error.message, /FAXBOT_API_KEY/);
    assert.doesNotMatch(error.message, /FAXBOT_URL/);
    return true;
  });
});

test("a URL that is not http(s) is refused, naming it", () => {
  process.env.FAXBOT_URL = "127.0.0.1:8080";
  process.env.FAXBOT_API_KEY = "k";
  assert.throws(() => new Faxbot(), { name: "TypeError", message: /127\.0\.0\.1:8080/ });
});
