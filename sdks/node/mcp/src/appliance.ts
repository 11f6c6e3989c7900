// The appliance as the server sees it: one Node SDK client per API key (the caller's own: no
// two callers share one), and each key's identity from GET /key, remembered for a short while.
import { createHash } from "node:crypto";

import { Faxbot } from "@faxbot/sdk";

const IDENTITY_MS = 30_000; // a key's scopes change only with a new artifact
const MOST_KEYS = 256;

export interface Identity {
  keyId: string;
  scopes: string[];
  operations: string[];
}

export interface Connection {
  url: string;
  timeoutMs: number;
  maxRetries: number;
}

function digest(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}

export class Appliance {
  readonly #clients = new Map<string, Faxbot>();
  readonly #identities = new Map<string, { at: number; identity: Identity }>();

  constructor(readonly connection: Connection) {}

  client(token: string): Faxbot {
    const key = digest(token);
    let found = this.#clients.get(key);
    if (found === undefined) {
      found = new Faxbot({
        baseUrl: this.connection.url,
        apiKey: token,
        timeoutMs: this.connection.timeoutMs,
        maxRetries: this.connection.maxRetries,
      });
    }
    this.#clients.delete(key); // re-inserted last: the map's order is the use order
    this.#clients.set(key, found);
    for (const oldest of this.#clients.keys()) {
      if (this.#clients.size <= MOST_KEYS) {
        break;
      }
      this.#clients.delete(oldest);
    }
    return found;
  }

  /** Who `token` is (a FaxbotError when the appliance refuses it or cannot be reached). */
  async identity(token: string): Promise<Identity> {
    const key = digest(token);
    const now = performance.now();
    const cached = this.#identities.get(key);
    if (cached !== undefined && now - cached.at < IDENTITY_MS) {
      return cached.identity;
    }
    const info = await this.client(token).getKey();
    const identity = { keyId: info.id, scopes: info.scopes, operations: info.operations };
    this.#identities.delete(key);
    this.#identities.set(key, { at: now, identity });
    for (const oldest of this.#identities.keys()) {
      if (this.#identities.size <= MOST_KEYS) {
        break;
      }
      this.#identities.delete(oldest);
    }
    return identity;
  }
}
