// Shared by the tests in test/: the appliance they run against, and documents to send.
// Not under test/, so that `node --test` does not take it for a test file.
import { Faxbot } from "@faxbot/sdk";

const url = process.env.FAXBOT_URL;
const apiKey = process.env.FAXBOT_API_KEY;
const readerKey = process.env.FAXBOT_READER_KEY;
const inboundKey = process.env.FAXBOT_INBOUND_KEY;

/** The appliance under test, from the environment (tests/sdk_node starts one and sets it). */
export const appliance = { url: url ?? "", apiKey: apiKey ?? "", readerKey: readerKey ?? "" };

/** `skip` for tests that need an appliance: false when the environment names one, else why. */
export const needsAppliance =
  url && apiKey && readerKey
    ? false
    : "no appliance: set FAXBOT_URL, FAXBOT_API_KEY (all scopes) and FAXBOT_READER_KEY " +
      "(fax:read only), or run `pytest tests/sdk_node`, which starts one";

/** A number the appliance's test transport sends to successfully (+12025550199 fails). */
export const TO = "+12025550143";

export function client(options = {}) {
  return new Faxbot({ baseUrl: appliance.url, apiKey: appliance.apiKey, ...options });
}

/** A key whose inbound_numbers received one fax, RECEIVED_PDF (tests/sdk_node posts it). */
export const needsInbound =
  needsAppliance ||
  (inboundKey ? false : "no inbound key: set FAXBOT_INBOUND_KEY, or run `pytest tests/sdk_node`");

export const RECEIVED_PDF = "%PDF-1.4 received for the Node SDK test\n";

export function inboundClient(options = {}) {
  return new Faxbot({ baseUrl: appliance.url, apiKey: inboundKey ?? "", ...options });
}

export function readerClient(options = {}) {
  return new Faxbot({ baseUrl: appliance.url, apiKey: appliance.readerKey, ...options });
}

/** A valid one-page PDF that says `text` (Latin-1) in Helvetica. */
export function onePagePdf(text = "Faxbot Node SDK test page") {
  const escaped = text.replace(/[\\()]/g, (c) => `\\${c}`);
  const content = `BT /F1 18 Tf 72 720 Td (${escaped}) Tj ET`;
  const objects = [
    "<< /Type /Catalog /Pages 2 0 R >>",
    "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
    "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R " +
      "/Resources << /Font << /F1 5 0 R >> >> >>",
    `<< /Length ${Buffer.byteLength(content, "latin1")} >>\nstream\n${content}\nendstream`,
    "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
  ];
  let pdf = "%PDF-1.4\n";
  const offsets = objects.map((body, index) => {
    const offset = Buffer.byteLength(pdf, "latin1");
    pdf += `${index + 1} 0 obj\n${body}\nendobj\n`;
    return offset;
  });
  const xref = Buffer.byteLength(pdf, "latin1");
  pdf += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  pdf += offsets.map((o) => `${String(o).padStart(10, "0")} 00000 n \n`).join("");
  pdf += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(pdf, "latin1");
}

/** Poll until the job is SUCCESS or FAILED. */
export async function finished(faxbot, id, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const job = await faxbot.getFaxStatus(id);
    if (job.status === "SUCCESS" || job.status === "FAILED") {
      return job;
    }
    if (Date.now() > deadline) {
      throw new Error(`job ${id} still ${job.status} after ${timeoutMs} ms`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
