// Registry: the curated plugin registry, searched by keyword, slot and capability, with how
// to add a plugin through config.d and a pull request. There is no install button: the
// image's build installs what the config pins.
import { useState } from "react";
import { stringify } from "yaml";
import { getJson } from "../api/client";
import type { Registry, RegistryEntry } from "../api/models";
import { Badge, Loaded } from "../Status";
import { useResource } from "../useResource";

const loadRegistry = () => getJson<Registry>("/plugin-registry");

export function matches(entry: RegistryEntry, keyword: string, slot: string, capability: string): boolean {
  const words = keyword.toLowerCase().split(/\s+/).filter(Boolean);
  const text = `${entry.id} ${entry.name} ${entry.description}`.toLowerCase();
  return (
    words.every((word) => text.includes(word)) &&
    (slot === "" || entry.categories.includes(slot)) &&
    (capability === "" || entry.capabilities.includes(capability))
  );
}

export default function RegistryPage() {
  const registry = useResource(loadRegistry, []);
  const [keyword, setKeyword] = useState("");
  const [slot, setSlot] = useState("");
  const [capability, setCapability] = useState("");
  return (
    <>
      <h1>Registry</h1>
      <Loaded resource={registry}>
        {(data) => {
          const slots = [...new Set(data.plugins.flatMap((entry) => entry.categories))].sort();
          const capabilities = [...new Set(data.plugins.flatMap((entry) => entry.capabilities))].sort();
          const found = data.plugins.filter((entry) => matches(entry, keyword, slot, capability));
          return (
            <>
              <form className="filters" role="search" aria-label="Search the registry" onSubmit={(e) => e.preventDefault()}>
                <label htmlFor="registry-keyword">Keyword</label>
                <input
                  id="registry-keyword"
                  type="search"
                  value={keyword}
                  onChange={(event) => setKeyword(event.target.value)}
                />
                <label htmlFor="registry-slot">Slot</label>
                <select id="registry-slot" value={slot} onChange={(event) => setSlot(event.target.value)}>
                  <option value="">any</option>
                  {slots.map((name) => (
                    <option key={name}>{name}</option>
                  ))}
                </select>
                <label htmlFor="registry-capability">Capability</label>
                <select
                  id="registry-capability"
                  value={capability}
                  onChange={(event) => setCapability(event.target.value)}
                >
                  <option value="">any</option>
                  {capabilities.map((name) => (
                    <option key={name}>{name}</option>
                  ))}
                </select>
              </form>
              <p role="status">
                {found.length} of {data.plugins.length} plugins
              </p>
              <div className="cards">
                {found.map((entry) => (
                  <RegistryCard key={entry.id} entry={entry} />
                ))}
              </div>
            </>
          );
        }}
      </Loaded>
    </>
  );
}

function RegistryCard({ entry }: { entry: RegistryEntry }) {
  const version = entry.versions[entry.versions.length - 1];
  const slot = entry.categories[0] ?? "outbound";
  const fragment = stringify(
    { providers: { [slot]: { plugin: entry.id, version: version ?? "X.Y.Z", enabled: true, settings: {} } } },
    { lineWidth: 0 },
  );
  return (
    <article className="card" aria-labelledby={`registry-${entry.id}`} data-registry={entry.id}>
      <header className="card-head">
        <h2 id={`registry-${entry.id}`}>{entry.name}</h2>
        <code>{entry.id}</code>
        <Badge tone={entry.status === "available" ? "good" : "plain"}>{entry.status}</Badge>
        {entry.first_party && <Badge>first party</Badge>}
      </header>
      <p>{entry.description}</p>
      <dl className="facts">
        <dt>Slots</dt>
        <dd>{entry.categories.join(", ")}</dd>
        <dt>Capabilities</dt>
        <dd>{entry.capabilities.join(", ")}</dd>
        <dt>Versions</dt>
        <dd>{entry.versions.length > 0 ? entry.versions.join(", ") : "none released yet"}</dd>
      </dl>
      {version !== undefined && (
        <details>
          <summary>How to add this plugin</summary>
          <ol>
            <li>
              Pin the distribution in the image's requirements: <code>{`${entry.distribution}==${version}`}</code>
            </li>
            <li>
              Add a fragment, e.g. <code>config.d/30-{entry.id}.yaml</code>, with its settings (see its docs):
              <pre tabIndex={0}>{fragment}</pre>
            </li>
            <li>
              Run <code>faxbot config check --dir config.d</code> and <code>faxbot config plan --base origin/main</code>,
              commit on a branch and open a pull request. The image built from it runs the plugin.
            </li>
          </ol>
        </details>
      )}
    </article>
  );
}
