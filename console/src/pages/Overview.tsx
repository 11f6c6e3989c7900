// Overview: what runs and whether it is healthy. GET /diagnostics has it all; an appliance
// without it (older) is shown from GET /config and GET /plugins.
import { ApiError, getJson } from "../api/client";
import type { ConfigSummary, Diagnostics, PluginSummary, Warning } from "../api/models";
import { Badge, Loaded } from "../Status";
import { useResource } from "../useResource";
import { Entries, Value } from "./Value";

async function loadOverview(): Promise<Diagnostics> {
  try {
    return await getJson<Diagnostics>("/diagnostics");
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 404) throw error;
    const config = await getJson<ConfigSummary>("/config");
    const plugins = await getJson<PluginSummary[]>("/plugins").catch(() => []);
    return {
      fingerprint: config.fingerprint,
      profile: config.profile,
      compiled_at: config.compiled_at,
      source_revision: config.source_revision,
      capabilities: config.operations,
      plugins: plugins.map((plugin) => ({ id: plugin.id, version: plugin.version, enabled: plugin.enabled })),
      warnings: config.profile === "dev" ? [{ code: "dev_profile", message: "The dev profile relaxes the rules." }] : [],
    };
  }
}

export function Overview() {
  const overview = useResource(loadOverview, []);
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
                  <code className="wrap">{data.fingerprint ?? "—"}</code>
                </dd>
                <dt>Profile</dt>
                <dd>
                  <Badge tone={data.profile === "hipaa" ? "good" : "warn"}>{data.profile ?? "—"}</Badge>
                </dd>
                <dt>Source revision</dt>
                <dd>
                  <code>{data.source_revision ?? "not recorded"}</code>
                </dd>
                <dt>Compiled at</dt>
                <dd>{data.compiled_at ?? "not recorded"}</dd>
                {data.replica !== undefined && (
                  <>
                    <dt>Replica</dt>
                    <dd>
                      <code>{data.replica}</code>
                    </dd>
                  </>
                )}
              </dl>
            </section>
            <WarningList warnings={data.warnings ?? []} />
            <section aria-labelledby="health">
              <h2 id="health">Health</h2>
              {data.checks !== undefined && (
                <>
                  <h3>Database and storage</h3>
                  <Value value={data.checks} />
                </>
              )}
              <h3>Plugins</h3>
              <Value value={data.plugins ?? []} />
            </section>
            <section aria-labelledby="capabilities">
              <h2 id="capabilities">Active capabilities</h2>
              <ul className="chips">
                {(data.capabilities ?? []).map((capability) => (
                  <li key={capability}>
                    <Badge>{capability}</Badge>
                  </li>
                ))}
              </ul>
            </section>
            {data.versions !== undefined && (
              <section aria-labelledby="versions">
                <h2 id="versions">Versions</h2>
                <Entries value={data.versions} />
              </section>
            )}
          </>
        )}
      </Loaded>
    </>
  );
}

function WarningList({ warnings }: { warnings: Warning[] }) {
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
              {warning.subject ? <> (<code>{warning.subject}</code>)</> : null}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
