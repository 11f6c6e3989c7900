// Plugins: a card per installed plugin, with what its manifest says and its settings per
// slot, read-only, each value with the file:line it came from.
import { Link } from "wouter";
import type { PluginView } from "./pluginData";
import { loadPlugins, settingSources, slotSettings } from "./pluginData";
import { allowedLinks } from "../settings/links";
import { SettingsForm } from "../settings/SettingsForm";
import { Badge, Loaded } from "../Status";
import { useResource } from "../useResource";

export default function Plugins() {
  const plugins = useResource(loadPlugins, []);
  return (
    <>
      <h1>Plugins</h1>
      <p>
        What the compiled config runs. Settings are read-only here: to change one, <Link href="/propose">propose a
        change</Link> and open a pull request.
      </p>
      <Loaded resource={plugins}>
        {(views) => (
          <div className="cards">
            {views.map((view) => (
              <PluginCard key={view.detail.id} view={view} />
            ))}
          </div>
        )}
      </Loaded>
    </>
  );
}

function PluginCard({ view }: { view: PluginView }) {
  const { detail, config } = view;
  const manifest = detail.manifest;
  const links = allowedLinks(manifest.ui?.links, manifest.homepage);
  const headingId = `plugin-${detail.id}`;
  return (
    <article className="card" aria-labelledby={headingId} data-plugin={detail.id}>
      <header className="card-head">
        <h2 id={headingId}>{detail.name}</h2>
        <span className="muted">
          <code>{detail.id}</code> {detail.version}
        </span>
        <Badge>{String(manifest.platform ?? "python")}</Badge>
        <Badge tone={detail.enabled ? "good" : "plain"}>{detail.enabled ? "enabled" : "not enabled"}</Badge>
      </header>
      <p>{detail.description}</p>
      <dl className="facts">
        <dt>Slots</dt>
        <dd>{detail.slots.length > 0 ? detail.slots.join(", ") : "none (installed, not configured)"}</dd>
        <dt>Capabilities</dt>
        <dd>
          <ul className="chips">
            {detail.capabilities.map((capability) => (
              <li key={capability}>
                <Badge>{capability}</Badge>
              </li>
            ))}
          </ul>
        </dd>
      </dl>
      {Object.keys(manifest.ui?.hints ?? {}).length > 0 && (
        <>
          <h3>Hints</h3>
          <ul className="hints">
            {Object.entries(manifest.ui?.hints ?? {}).map(([name, hint]) => (
              <li key={name}>
                <code>{name}</code>: {hint}
              </li>
            ))}
          </ul>
        </>
      )}
      {links.length > 0 && (
        <>
          <h3>Learn more</h3>
          <ul>
            {links.map((link) => (
              <li key={link.url}>
                <a href={link.url} rel="noopener noreferrer" target="_blank">
                  {link.label}
                </a>
              </li>
            ))}
          </ul>
        </>
      )}
      {Object.keys(config.slots).map((slot) => (
        <section key={slot} className="slot" aria-label={`${detail.name} settings in the ${slot} slot`}>
          <h3>
            Settings in the <code>{slot}</code> slot
          </h3>
          <SettingsForm
            id={`${detail.id}-${slot}`}
            manifest={manifest}
            settings={slotSettings(config, slot)}
            readonly
          />
          <h4>Where each value came from</h4>
          <table className="sources">
            <caption className="visually-hidden">
              Sources of the {slot} slot's values
            </caption>
            <thead>
              <tr>
                <th scope="col">Key</th>
                <th scope="col">File:line</th>
              </tr>
            </thead>
            <tbody>
              {settingSources(config, slot).map(([key, where]) => (
                <tr key={key}>
                  <td>
                    <code>{key}</code>
                  </td>
                  <td>
                    <code className="wrap">{where}</code>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <p>
            <Link href={`/propose/${encodeURIComponent(detail.id)}?slot=${encodeURIComponent(slot)}`}>
              Propose a change to {detail.name} in {slot}
            </Link>
          </p>
        </section>
      ))}
    </article>
  );
}
