// A local HTTP stub on loopback for the tests that need answers a real appliance will not
// give on demand (a 503, a Retry-After, a status it does not have yet, a hang).
import { once } from "node:events";
import { createServer } from "node:http";

/** A stub answering with `answers` in turn (the last one repeats) and recording what came in.
 * An answer is [status, headers, body] (an object is sent as JSON, a string as it is), a
 * function of the request record returning one, or "hang" (never answers). */
export async function stub(answers) {
  const requests = [];
  const server = createServer(async (request, response) => {
    const chunks = [];
    for await (const chunk of request) {
      chunks.push(chunk);
    }
    const record = {
      at: Date.now(),
      method: request.method,
      url: request.url,
      query: new URL(request.url, "http://stub").searchParams,
      headers: request.headers,
      body: Buffer.concat(chunks),
    };
    requests.push(record);
    let answer = answers[Math.min(requests.length, answers.length) - 1];
    if (typeof answer === "function") {
      answer = answer(record);
    }
    if (answer === "hang") {
      return;
    }
    const [status, headers, body] = answer;
    const text = typeof body === "string" ? body : JSON.stringify(body);
    response.writeHead(status, { "content-type": "application/json", ...headers });
    response.end(text);
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const close = () => {
    server.closeAllConnections();
    server.close();
  };
  return { requests, close, url: `http://127.0.0.1:${server.address().port}` };
}

/** A job as the appliance answers with it; `fields` replace some. */
export function jobBody(fields = {}) {
  return {
    id: "0123456789abcdef0123456789abcdef",
    to: "+12025550143",
    status: "queued",
    pages: 1,
    error: null,
    backend: "test",
    provider_sid: null,
    created_at: "2026-01-01T00:00:00Z",
    updated_at: "2026-01-01T00:00:00Z",
    ...fields,
  };
}
