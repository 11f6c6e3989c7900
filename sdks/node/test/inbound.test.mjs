// Received faxes against a real appliance: listed for the key whose number they arrived on,
// downloaded byte-identical to a file, and another key's answer is inbound_not_found.
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";

import { NotFoundError } from "@faxbot/sdk";

import { client, inboundClient, needsInbound, RECEIVED_PDF } from "../testing/helpers.mjs";

test("a received fax is listed, read and downloaded to a file intact", { skip: needsInbound }, async () => {
  const faxbot = inboundClient();
  const found = [];
  for await (const fax of faxbot.listInbound({ limit: 1 })) {
    found.push(fax);
  }
  assert.equal(found.length, 1);
  const [fax] = found;
  assert.deepEqual(await faxbot.getInbound(fax.id), fax);
  const blob = await faxbot.getInboundPdf(fax.id);
  assert.equal(await blob.text(), RECEIVED_PDF);
  const folder = await mkdtemp(join(tmpdir(), "faxbot-sdk-"));
  try {
    const path = join(folder, "fax.pdf");
    assert.equal(await faxbot.downloadInboundPdf(fax.id, path), RECEIVED_PDF.length);
    assert.equal(await readFile(path, "latin1"), RECEIVED_PDF);
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
});

test("another key's received fax rejects with inbound_not_found", { skip: needsInbound }, async () => {
  const page = await inboundClient().listInboundPage();
  const [fax] = page.items;
  const other = client(); // no inbound numbers, no inbound:read_all
  assert.deepEqual((await other.listInboundPage()).items, []);
  await assert.rejects(other.getInbound(fax.id), (error) => {
    assert.ok(error instanceof NotFoundError);
    assert.equal(error.code, "inbound_not_found");
    return true;
  });
  const folder = await mkdtemp(join(tmpdir(), "faxbot-sdk-"));
  try {
    await assert.rejects(other.downloadInboundPdf(fax.id, join(folder, "fax.pdf")), NotFoundError);
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
});
