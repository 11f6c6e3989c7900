// Propose a change: a plugin's settings in one slot, editable and checked as you type
// against its config_schema; the result is a config.d fragment, a diff and the commands
// for a pull request. Nothing is sent to the appliance: the console never writes config.
import { useMemo, useState } from "react";
import { useLocation, useSearch } from "wouter";
import type { CustomValidator } from "@rjsf/utils";
import { download } from "../download";
import { loadPlugins, slotSettings, type PluginView } from "./pluginData";
import { propose } from "../settings/proposal";
import { MASKED, referenceProblem, secretSettings } from "../settings/secrets";
import { SettingsForm } from "../settings/SettingsForm";
import { check } from "../settings/validator";
import { Loaded } from "../Status";
import { useResource } from "../useResource";

export default function Propose({ params }: { params: { plugin?: string } }) {
  const plugins = useResource(loadPlugins, []);
  return (
    <>
      <h1>Propose a change</h1>
      <p>
        Edit a plugin's settings to get a <code>config.d</code> fragment for a pull request. The console changes nothing
        on the appliance; the change takes effect when the reviewed fragment is compiled into a new artifact.
      </p>
      <Loaded resource={plugins}>{(views) => <Chooser views={views} pluginId={params.plugin} />}</Loaded>
    </>
  );
}

function Chooser({ views, pluginId }: { views: PluginView[]; pluginId: string | undefined }) {
  const [, navigate] = useLocation();
  const search = new URLSearchParams(useSearch());
  const configured = views.filter((view) => Object.keys(view.config.slots).length > 0);
  const view = configured.find((item) => item.detail.id === pluginId) ?? configured[0];
  if (view === undefined) return <p>No plugin is configured in any slot.</p>;
  const slots = Object.keys(view.config.slots);
  const slot = slots.includes(search.get("slot") ?? "") ? (search.get("slot") as string) : (slots[0] as string);
  const go = (plugin: string, to: string) =>
    navigate(`/propose/${encodeURIComponent(plugin)}?slot=${encodeURIComponent(to)}`, { replace: true });
  return (
    <>
      <div className="choose">
        <label htmlFor="propose-plugin">Plugin</label>
        <select
          id="propose-plugin"
          value={view.detail.id}
          onChange={(event) => {
            const next = configured.find((item) => item.detail.id === event.target.value);
            go(event.target.value, Object.keys(next?.config.slots ?? {})[0] ?? "");
          }}
        >
          {configured.map((item) => (
            <option key={item.detail.id} value={item.detail.id}>
              {item.detail.name} ({item.detail.id})
            </option>
          ))}
        </select>
        <label htmlFor="propose-slot">Slot</label>
        <select id="propose-slot" value={slot} onChange={(event) => go(view.detail.id, event.target.value)}>
          {slots.map((name) => (
            <option key={name} value={name}>
              {name}
            </option>
          ))}
        </select>
      </div>
      <Editor key={`${view.detail.id}/${slot}`} view={view} slot={slot} />
    </>
  );
}

function Editor({ view, slot }: { view: PluginView; slot: string }) {
  const { detail, config } = view;
  // secrets as their references, so an untouched reference is no change and the fragment
  // and the diff hold references only
  const current = slotSettings(config, slot);
  const entry = { ...config.slots[slot], settings: current };
  const [settings, setSettings] = useState<Record<string, unknown>>(current);
  const secrets = useMemo(() => secretSettings(detail.manifest.config_schema), [detail]);

  const secretProblems = (data: Record<string, unknown>): [string, string][] =>
    [...secrets].flatMap((name): [string, string][] => {
      const value = data[name];
      if (value === undefined || value === null || value === "") return [];
      if (value === MASKED && current[name] === MASKED) return []; // untouched, no reference shown: it stays
      const problem = typeof value === "string" ? referenceProblem(value) : "must be a secret reference";
      return problem === null ? [] : [[name, problem]];
    });

  const customValidate: CustomValidator = (data, errors) => {
    for (const [name, problem] of secretProblems((data ?? {}) as Record<string, unknown>)) {
      (errors as unknown as Record<string, { addError: (m: string) => void }>)[name]?.addError(problem);
    }
    return errors;
  };

  const problems = check(detail.manifest.config_schema ?? {}, settings).length + secretProblems(settings).length;
  const proposal = problems === 0 ? propose(detail.id, slot, entry, settings) : null;

  return (
    <>
      <section aria-labelledby="edit-settings">
        <h2 id="edit-settings">
          {detail.name} settings in the <code>{slot}</code> slot
        </h2>
        <SettingsForm
          id={`propose-${detail.id}-${slot}`}
          manifest={detail.manifest}
          settings={settings}
          readonly={false}
          onChange={setSettings}
          customValidate={customValidate}
        />
      </section>
      <section aria-labelledby="proposal" aria-live="polite">
        <h2 id="proposal">The change</h2>
        {proposal === null ? (
          <p role="status" className="error">
            Fix the {problems === 1 ? "problem" : `${problems} problems`} shown above to get a fragment.
          </p>
        ) : proposal.unchanged ? (
          <p role="status">Nothing changed yet: edit a setting above.</p>
        ) : (
          <>
            <h3>
              Fragment: <code>config.d/{proposal.fileName}</code>
            </h3>
            <Snippet label="fragment" text={proposal.fragment} fileName={proposal.fileName} type="application/yaml" />
            {proposal.cleared.length > 0 && (
              <p>
                Cleared settings ({proposal.cleared.join(", ")}) cannot be unset by a later fragment: remove them from
                the file that sets them (see the Plugins page for file:line).
              </p>
            )}
            <h3>Diff against the current values</h3>
            <Snippet label="diff" text={proposal.diff} fileName={`${detail.id}-${slot}.diff`} type="text/x-diff" />
            <h3>Commands for the pull request</h3>
            <Snippet label="commands" text={proposal.commands} />
          </>
        )}
      </section>
    </>
  );
}

function Snippet({ label, text, fileName, type }: { label: string; text: string; fileName?: string; type?: string }) {
  const [copied, setCopied] = useState(false);
  return (
    <div className="snippet">
      <pre tabIndex={0} aria-label={label} data-snippet={label}>
        {text}
      </pre>
      <div className="actions">
        <button
          type="button"
          onClick={() =>
            void navigator.clipboard.writeText(text).then(
              () => setCopied(true),
              () => setCopied(false),
            )
          }
        >
          Copy {label}
        </button>
        {fileName !== undefined && (
          <button type="button" onClick={() => download(text, fileName, type ?? "text/plain")}>
            Download {label}
          </button>
        )}
        <span role="status">{copied ? "Copied." : ""}</span>
      </div>
    </div>
  );
}
