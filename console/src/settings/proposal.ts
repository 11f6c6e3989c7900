// A proposed change to one plugin's settings in one slot, as the operator commits it: a
// config.d fragment holding only what changes (fragments merge key by key, later files win),
// a unified diff of the slot's entry before and after, and the commands for the pull request.
import { createTwoFilesPatch } from "diff";
import { stringify } from "yaml";
import type { ProviderEntry } from "../api/models";

export interface Proposal {
  fileName: string;
  fragment: string;
  diff: string;
  commands: string;
  unchanged: boolean;
  cleared: string[];
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Form data without the empty values rjsf leaves for fields the operator cleared. */
function present(settings: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(settings).filter(([, value]) => value !== undefined && value !== ""));
}

function entryYaml(slot: string, entry: ProviderEntry): string {
  return stringify({ providers: { [slot]: entry } }, { lineWidth: 0 });
}

export function propose(
  pluginId: string,
  slot: string,
  current: ProviderEntry,
  edited: Record<string, unknown>,
): Proposal {
  const before = (current.settings ?? {}) as Record<string, unknown>;
  const after = present(edited);
  const changed = Object.fromEntries(Object.entries(after).filter(([name, value]) => !same(before[name], value)));
  const cleared = Object.keys(before).filter((name) => !(name in after));
  const fileName = `99-console-${slot}.yaml`;
  const header =
    `# Proposed in the Faxbot console: ${pluginId} settings in the ${slot} slot.\n` +
    `# Merged after the other fragments, so these values replace theirs.\n`;
  const fragment =
    header +
    entryYaml(slot, {
      plugin: current.plugin ?? pluginId,
      ...(current.version !== undefined ? { version: current.version } : {}),
      ...(current.enabled !== undefined ? { enabled: current.enabled } : {}),
      settings: changed,
    });
  const merged: ProviderEntry = { ...current, settings: { ...before, ...changed } };
  const diff = createTwoFilesPatch(
    `a/providers.${slot}`,
    `b/providers.${slot}`,
    entryYaml(slot, current),
    entryYaml(slot, merged),
    "current (compiled artifact)",
    "proposed",
  );
  const branch = `config/${pluginId}-${slot}-settings`;
  const commands = [
    `git switch -c ${branch}`,
    `# save the fragment as config.d/${fileName}, then:`,
    `faxbot config check --dir config.d`,
    `faxbot config plan --dir config.d --base origin/main`,
    `git add config.d/${fileName}`,
    `git commit -m "config: ${pluginId} settings in the ${slot} slot"`,
    `git push -u origin ${branch}   # and open a pull request`,
  ].join("\n");
  return { fileName, fragment, diff, commands, unchanged: Object.keys(changed).length === 0, cleared };
}
