// Overview: what runs, from which revision, and whether it is healthy (GET /diagnostics):
// identity, warnings, the database and storage checks, each plugin's health, the active
// capabilities per slot, and the most recent problems the appliance logged.
import { getJson } from "../api/client";
import type { Diagnostics, DiagnosticWarning } from "../api/models";
import { Badge, Loaded } from "../Status";
import { useResource } from "../useResource";
import { Value } from "./Value";

const loadDiagnostics = () => getJson<Diagnostics>("/diagnostics");

export function Overview() {
  const overview = useResource(loadDiagnostics, []);
  return (
    <>
      <h1>Overview</h1>
      <Loaded resource={overview}>
        {(data) => (
          <>
            <section aria-labelledby="running">
              <h2 id="running">What runs</h2>
              <dl className="facts">
                <dt>Fingerprint</dt>
                <dd>
                  <code className="wrap">{data.fingerprint}</code>
                </dd>
                <dt>Profile</dt>
                <dd>
                  <Badge tone={data.profile === "hipaa" ? "good" : "warn"}>{data.profile}</Badge>
                </dd>
                <dt>Source revision</dt>
                <dd>
                  <code>{data.source_revision ?? "not recorded"}</code>
                </dd>
                <dt>Compiled at</dt>
                <dd>{data.compiled_at ?? "not recorded"}</dd>
                <dt>Replica</dt>
                <dd>
                  <code>{data.replica}</code>
                </dd>
                <dt>Faxbot</dt>
                <dd>
                  {data.versions.faxbot} (Python {data.versions.python})
                </dd>
              </dl>
            </section>
            <WarningList warnings={data.warnings} />
            <section aria-labelledby="health">
              <h2 id="health">Health</h2>
              <h3>Database and storage</h3>
              <Checks checks={data.checks} />
              <h3>Plugins</h3>
              <div className="table-scroll" tabIndex={0} role="region" aria-label="Plugin health">
                <table>
                  <thead>
                    <tr>
                      <th scope="col">Plugin</th>
                      <th scope="col">Version</th>
                      <th scope="col">Slots</th>
                      <th scope="col">Health</th>
                    </tr>
                  </thead>
                  <tbody>
                    {Object.entries(data.plugins).map(([id, plugin]) => (
                      <tr key={id}>
                        <td>
                          <code>{id}</code>
                          {plugin.enabled ? "" : " (not enabled)"}
                        </td>
                        <td>{plugin.version}</td>
                        <td>{plugin.slots.join(", ") || "—"}</td>
                        <td>
                          <Badge tone={plugin.health.ok ? "good" : "bad"}>{plugin.health.ok ? "healthy" : "unhealthy"}</Badge>{" "}
                          {plugin.health.detail}
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            </section>
            <section aria-labelledby="capabilities">
              <h2 id="capabilities">Active capabilities</h2>
              <dl className="facts">
                {Object.entries(data.capabilities.by_slot).map(([slot, capabilities]) => (
                  <div key={slot} className="fact">
                    <dt>{slot}</dt>
                    <dd>
                      <ul className="chips">
                        {capabilities.map((capability) => (
                          <li key={capability}>
                            <Badge>{capability}</Badge>
                          </li>
                        ))}
                      </ul>
                    </dd>
                  </div>
                ))}
              </dl>
            </section>
            <section aria-labelledby="recent-errors">
              <h2 id="recent-errors">Recent problems</h2>
              {data.recent_errors.length === 0 ? (
                <p>None logged since the appliance started.</p>
              ) : (
                <div className="table-scroll" tabIndex={0} role="region" aria-label="Recent problems">
                  <table>
                    <thead>
                      <tr>
                        <th scope="col">At</th>
                        <th scope="col">Level</th>
                        <th scope="col">Event</th>
                        <th scope="col">Code</th>
                        <th scope="col">Plugin</th>
                      </tr>
                    </thead>
                    <tbody>
                      {data.recent_errors.map((error, index) => (
                        <tr key={`${error.at}-${index}`}>
                          <td>{error.at}</td>
                          <td>{error.level}</td>
                          <td>{error.event ?? "—"}</td>
                          <td>{error.code ?? "—"}</td>
                          <td>{error.plugin ?? "—"}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </div>
              )}
            </section>
          </>
        )}
      </Loaded>
    </>
  );
}

/** The readiness checks: each `{ok, ...details}`, shown as a row with its details. */
function Checks({ checks }: { checks: Record<string, unknown> }) {
  return (
    <div className="table-scroll" tabIndex={0} role="region" aria-label="Readiness checks">
      <table>
        <thead>
          <tr>
            <th scope="col">Check</th>
            <th scope="col">State</th>
            <th scope="col">Details</th>
          </tr>
        </thead>
        <tbody>
          {Object.entries(checks).map(([name, check]) => {
            const { ok, ...details } = (typeof check === "object" && check !== null ? check : { ok: check }) as {
              ok?: unknown;
            } & Record<string, unknown>;
            return (
              <tr key={name}>
                <td>{name}</td>
                <td>
                  <Badge tone={ok === true ? "good" : "bad"}>{ok === true ? "ok" : "failing"}</Badge>
                </td>
                <td>{Object.keys(details).length > 0 ? <Value value={details} /> : "—"}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

function WarningList({ warnings }: { warnings: DiagnosticWarning[] }) {
  return (
    <section aria-labelledby="warnings">
      <h2 id="warnings">Warnings</h2>
      {warnings.length === 0 ? (
        <p>None.</p>
      ) : (
        <ul className="warnings">
          {warnings.map((warning, index) => (
            <li key={`${warning.code}-${index}`}>
              <Badge tone="warn">{warning.code}</Badge> {warning.message}
              {warning.subject ? (
                <>
                  {" "}
                  (<code>{warning.subject}</code>)
                </>
              ) : null}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
