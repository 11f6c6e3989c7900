// Each plugin with its manifest and its settings per slot, as the Plugins and Propose pages
// need them.
import { getJson } from "../api/client";
import type { PluginConfig, PluginDetail, PluginSummary } from "../api/models";

export interface PluginView {
  detail: PluginDetail;
  config: PluginConfig;
}

export async function loadPlugin(id: string): Promise<PluginView> {
  const path = `/plugins/${encodeURIComponent(id)}`;
  const [detail, config] = await Promise.all([getJson<PluginDetail>(path), getJson<PluginConfig>(`${path}/config`)]);
  return { detail, config };
}

export async function loadPlugins(): Promise<PluginView[]> {
  const plugins = await getJson<PluginSummary[]>("/plugins");
  return await Promise.all(plugins.map((plugin) => loadPlugin(plugin.id)));
}

/** One slot's settings as the console shows and edits them: each secret setting as its
 *  reference (`${env:NAME}`, `${file:/path}`) from the API's secret_references; a secret the
 *  API lists no reference for stays masked. */
export function slotSettings(config: PluginConfig, slot: string): Record<string, unknown> {
  const settings = { ...((config.slots[slot]?.settings ?? {}) as Record<string, unknown>) };
  const prefix = `providers.${slot}.settings.`;
  for (const [path, reference] of Object.entries(config.secret_references)) {
    const name = path.slice(prefix.length);
    if (path.startsWith(prefix) && name in settings) settings[name] = reference;
  }
  return settings;
}

/** The sources of one slot's settings: key path (under the slot's settings) -> file:line. */
export function settingSources(config: PluginConfig, slot: string): [string, string][] {
  const prefix = `providers.${slot}.`;
  return Object.entries(config.sources)
    .filter(([path]) => path.startsWith(prefix))
    .map(([path, where]): [string, string] => [path.slice(prefix.length), where])
    .sort(([a], [b]) => a.localeCompare(b));
}
