// Error codes, request ids and the listFaxes filters against a real appliance (the other tests
// check the same behaviour against loopback stubs).
import assert from "node:assert/strict";
import { test } from "node:test";

import { BadRequestError, NotFoundError } from "@faxbot/sdk";

import { client, needsAppliance, onePagePdf, TO } from "../testing/helpers.mjs";

const OTHER = "+12025550177";
const FAILS = "+12025550199"; // in the test transport's fail_numbers

test("an unknown job rejects with job_not_found and the request id the SDK sent", { skip: needsAppliance }, async () => {
  const error = await client()
    .getFaxStatus("0".repeat(32))
    .then(
      () => assert.fail("expected a rejection"),
      (caught) => caught,
    );
  assert.ok(error instanceof NotFoundError);
  assert.equal(error.status, 404);
  assert.equal(error.code, "job_not_found");
  assert.match(error.requestId ?? "", /^[0-9a-f]{32}$/);
});

test("a number that is not E.164 rejects with invalid_number", { skip: needsAppliance }, async () => {
  await assert.rejects(client().sendFax("555-0143", Buffer.from("hello\n")), (error) => {
    assert.ok(error instanceof BadRequestError);
    assert.equal(error.code, "invalid_number");
    return true;
  });
});

test("the filters select on the appliance", { skip: needsAppliance }, async () => {
  const faxbot = client();
  const since = new Date(Date.now() - 1000);
  const ours = [];
  for (let i = 0; i < 3; i += 1) {
    ours.push((await faxbot.sendFax(TO, onePagePdf())).id);
  }
  const other = (await faxbot.sendFax(OTHER, onePagePdf())).id;
  const failing = (await faxbot.sendFax(FAILS, onePagePdf())).id;
  for (const id of [...ours, other, failing]) {
    await faxbot.wait(id, { timeoutMs: 30_000 });
  }
  const collect = async (options) => {
    const ids = [];
    for await (const job of faxbot.listFaxes(options)) {
      ids.push(job.id);
    }
    return ids;
  };
  const mine = await collect({ to: TO, createdSince: since, limit: 2 });
  assert.ok(ours.every((id) => mine.includes(id)));
  assert.ok(!mine.includes(other) && !mine.includes(failing));
  assert.deepEqual(await collect({ status: "FAILED", createdSince: since }), [failing]);
  const succeeded = await collect({ status: "SUCCESS", createdSince: since.toISOString() });
  assert.deepEqual(new Set(succeeded), new Set([...ours, other]));
  assert.deepEqual(await collect({ createdSince: new Date(Date.now() + 60_000) }), []);
  assert.deepEqual(await collect({ createdUntil: since, to: OTHER }), []);
});

test("a cursor from other filters rejects with invalid_cursor", { skip: needsAppliance }, async () => {
  const faxbot = client();
  await faxbot.sendFax(OTHER, Buffer.from("one\n"));
  await faxbot.sendFax(OTHER, Buffer.from("two\n"));
  const page = await faxbot.listFaxesPage({ to: OTHER, limit: 1 });
  assert.ok(page.next_cursor);
  await assert.rejects(faxbot.listFaxesPage({ to: TO, limit: 1, cursor: page.next_cursor }), (error) => {
    assert.equal(error.code, "invalid_cursor");
    return true;
  });
});
