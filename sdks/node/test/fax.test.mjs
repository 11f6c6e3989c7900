// Sending, polling and listing against a real appliance.
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";

import { Faxbot } from "@faxbot/sdk";

import { appliance, client, finished, needsAppliance, onePagePdf, TO } from "../testing/helpers.mjs";

let folder = "";
before(async () => {
  folder = await mkdtemp(join(tmpdir(), "faxbot-sdk-"));
});
after(async () => {
  await rm(folder, { recursive: true, force: true });
});

test("sendFax from a path reaches SUCCESS", { skip: needsAppliance }, async () => {
  const path = join(folder, "letter.pdf");
  await writeFile(path, onePagePdf());
  const faxbot = client();
  const job = await faxbot.sendFax(TO, path);
  assert.equal(job.to, TO);
  assert.equal(job.status, "queued");
  assert.equal(job.pages, 1);
  const done = await finished(faxbot, job.id);
  assert.equal(done.status, "SUCCESS");
  assert.equal(done.error, null);
  assert.equal(done.id, job.id);
});

test("sendFax from bytes: a Buffer of text and a Uint8Array PDF", { skip: needsAppliance }, async () => {
  const faxbot = client();
  const text = await faxbot.sendFax(TO, Buffer.from("Hello from the Node SDK\n"));
  const pdf = await faxbot.sendFax(TO, new Uint8Array(onePagePdf()));
  for (const job of [text, pdf]) {
    assert.equal((await finished(faxbot, job.id)).status, "SUCCESS");
  }
  assert.notEqual(text.id, pdf.id);
});

test("sendFax from a Blob and a File", { skip: needsAppliance }, async () => {
  const faxbot = client();
  const blob = await faxbot.sendFax(TO, new Blob([onePagePdf()], { type: "application/pdf" }));
  const file = await faxbot.sendFax(TO, new File([onePagePdf()], "cover.pdf"));
  assert.equal(blob.pages, 1);
  assert.equal(file.pages, 1);
});

test("the same idempotencyKey twice gives the same job", { skip: needsAppliance }, async () => {
  const faxbot = client();
  const idempotencyKey = `node-sdk-${crypto.randomUUID()}`;
  const first = await faxbot.sendFax(TO, onePagePdf(), { idempotencyKey });
  const second = await faxbot.sendFax(TO, onePagePdf(), { idempotencyKey });
  assert.equal(second.id, first.id);
});

test("listFaxes follows next_cursor over several pages", { skip: needsAppliance }, async () => {
  const faxbot = client();
  const sent = [];
  for (let i = 0; i < 5; i += 1) {
    sent.push((await faxbot.sendFax(TO, Buffer.from(`page test ${i}\n`))).id);
  }

  const first = await faxbot.listFaxesPage({ limit: 2 });
  assert.equal(first.items.length, 2);
  assert.equal(typeof first.next_cursor, "string");
  const second = await faxbot.listFaxesPage({ limit: 2, cursor: first.next_cursor });
  assert.equal(second.items.length, 2);
  assert.deepEqual(
    new Set([...first.items, ...second.items].map((job) => job.id)).size,
    4,
    "pages do not overlap",
  );

  class Counting extends Faxbot {
    pages = 0;
    listFaxesPage(options) {
      this.pages += 1;
      return super.listFaxesPage(options);
    }
  }
  const counting = new Counting({ baseUrl: appliance.url, apiKey: appliance.apiKey });
  const seen = [];
  for await (const job of counting.listFaxes({ limit: 2 })) {
    seen.push(job.id);
  }
  assert.equal(new Set(seen).size, seen.length, "no job twice");
  assert.ok(counting.pages >= 3, `${counting.pages} pages`);
  assert.ok(counting.pages >= Math.ceil(seen.length / 2), "at most 2 jobs a page");
  for (const id of sent) {
    assert.ok(seen.includes(id), `job ${id} listed`);
  }
  // newest first: the five just sent appear in reverse order of sending
  const order = sent.map((id) => seen.indexOf(id));
  assert.deepEqual([...order].sort((a, b) => b - a), order);
});

test("request() calls any operation, typed from the spec", { skip: needsAppliance }, async () => {
  const faxbot = client();
  const plugins = await faxbot.request("list_plugins");
  assert.deepEqual(plugins.map((p) => p.id).sort(), ["local", "test"]);
  const plugin = await faxbot.request("get_plugin", { path: { plugin_id: "test" } });
  assert.equal(plugin.enabled, true);
  const health = await faxbot.request("health_ready");
  assert.equal(health.status, "ready");
});
