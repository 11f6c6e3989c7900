// Sign-in: the key is checked with GET /key (sent in the X-API-Key header) and kept only if
// the appliance knows it and it carries admin:read.
import { useState, type FormEvent } from "react";
import { ApiError, getJson } from "../api/client";
import type { KeyInfo } from "../api/models";
import { storeKey } from "../session";

export const REQUIRED_SCOPE = "admin:read";

export function SignIn({ onSignedIn }: { onSignedIn: () => void }) {
  const [token, setToken] = useState("");
  const [problem, setProblem] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    const key = token.trim();
    if (key === "") {
      setProblem("Enter an API key.");
      return;
    }
    setBusy(true);
    setProblem(null);
    try {
      const info = await getJson<KeyInfo>("/key", key);
      if (!info.scopes.includes(REQUIRED_SCOPE)) {
        setProblem(
          `The key "${info.id}" has no ${REQUIRED_SCOPE} scope, which the console needs. ` +
            `Sign in with a key that has it (faxbot keys new --scopes ${REQUIRED_SCOPE},...).`,
        );
        return;
      }
      storeKey(key);
      onSignedIn();
    } catch (error) {
      setProblem(
        error instanceof ApiError && error.status === 401
          ? "The appliance refused this key: it is wrong, expired or not in the compiled config."
          : `Could not check the key: ${error instanceof Error ? error.message : String(error)}`,
      );
    } finally {
      setBusy(false);
    }
  }

  return (
    <main id="main" className="sign-in">
      <h1>Faxbot console</h1>
      <p>
        A read-only view of this appliance. Sign in with an API key that has the <code>admin:read</code> scope. The key
        stays in this tab's session storage and is sent only in the <code>X-API-Key</code> header.
      </p>
      <form onSubmit={submit} noValidate aria-describedby={problem ? "sign-in-problem" : undefined}>
        <label htmlFor="api-key">API key</label>
        <input
          id="api-key"
          name="api-key"
          type="password"
          autoComplete="off"
          spellCheck={false}
          value={token}
          onChange={(event) => setToken(event.target.value)}
          aria-invalid={problem !== null}
          required
        />
        <button type="submit" disabled={busy}>
          {busy ? "Checking…" : "Sign in"}
        </button>
        {problem !== null && (
          <p id="sign-in-problem" role="alert" className="error">
            {problem}
          </p>
        )}
      </form>
    </main>
  );
}
