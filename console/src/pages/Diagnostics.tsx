// Diagnostics: the appliance's GET /diagnostics (versions, fingerprint, plugin health,
// recent errors; the appliance removed secrets and phone numbers), shown and downloadable
// as JSON for a support ticket.
import { getJson } from "../api/client";
import type { Diagnostics } from "../api/models";
import { Loaded } from "../Status";
import { useResource } from "../useResource";
import { download } from "../download";

const loadDiagnostics = () => getJson<Diagnostics>("/diagnostics");

export default function DiagnosticsPage() {
  const diagnostics = useResource(loadDiagnostics, []);
  return (
    <>
      <h1>Diagnostics</h1>
      <p>
        For a support ticket: versions, the config fingerprint, plugin health, warnings and recent errors. The appliance
        removes every secret and phone number before it answers.
      </p>
      <Loaded resource={diagnostics}>
        {(data) => {
          const text = `${JSON.stringify(data, null, 2)}\n`;
          const stamp = data.generated_at.replace(/[:.]/g, "-");
          return (
            <>
              <button type="button" onClick={() => download(text, `faxbot-diagnostics-${stamp}.json`, "application/json")}>
                Download diagnostics (JSON)
              </button>
              <h2>Contents</h2>
              <pre tabIndex={0} aria-label="Diagnostics JSON" className="scroll">
                {text}
              </pre>
            </>
          );
        }}
      </Loaded>
    </>
  );
}
