// Every ```js example in README.md runs, as a user would run it: as its own ES module that
// imports "@faxbot/sdk", in a folder with a letter.pdf, against a real appliance.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { after, before, test } from "node:test";

import { needsAppliance, onePagePdf } from "../testing/helpers.mjs";

const PACKAGE = fileURLToPath(new URL("..", import.meta.url));
const run = promisify(execFile);

/** The ```js blocks of a markdown text, each with the heading above it and its line. */
export function examples(markdown) {
  const found = [];
  let heading = "";
  let block = null;
  markdown.split("\n").forEach((line, index) => {
    if (block !== null) {
      if (line.startsWith("```")) {
        found.push(block);
        block = null;
      } else {
        block.code += `${line}\n`;
      }
    } else if (line.startsWith("#")) {
      heading = line.replace(/^#+\s*/, "");
    } else if (/^```(js|ts)\s*$/.test(line)) {
      block = { heading, line: index + 1, code: "" };
    }
  });
  return found;
}

const blocks = examples(await readFile(join(PACKAGE, "README.md"), "utf8"));
let folder = "";

before(async () => {
  folder = await mkdtemp(join(tmpdir(), "faxbot-readme-"));
  await mkdir(join(folder, "node_modules", "@faxbot"), { recursive: true });
  await symlink(PACKAGE, join(folder, "node_modules", "@faxbot", "sdk"), "dir");
  await writeFile(join(folder, "letter.pdf"), onePagePdf("Dear reader, this is letter.pdf."));
});

after(async () => {
  await rm(folder, { recursive: true, force: true });
});

test("README.md has examples", () => {
  assert.ok(blocks.length >= 5, `${blocks.length} js examples`);
});

for (const [index, block] of blocks.entries()) {
  test(`README example ${index + 1}: ${block.heading} (line ${block.line})`, { skip: needsAppliance }, async () => {
    const file = join(folder, `example-${index + 1}.mjs`);
    await writeFile(file, block.code);
    const { stdout, stderr } = await run(process.execPath, [file], {
      cwd: folder,
      env: process.env,
      timeout: 60_000,
    }).catch((error) => {
      throw new Error(`README.md line ${block.line} failed:\n${error.stderr || error.message}`);
    });
    assert.equal(stderr, "", `README.md line ${block.line} wrote to stderr`);
    assert.notEqual(stdout, "", `README.md line ${block.line} printed nothing`);
  });
}
