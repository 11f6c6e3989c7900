// The API's shapes the console reads: the generated types (codegen, from docs/openapi.json),
// narrowed where the spec says only "an object" (manifests, settings, the registry).
import type * as generated from "./generated/types";

export type {
  ConfigSummary,
  Diagnostics,
  DiagnosticWarning,
  FaxJob,
  FaxJobPage,
  FaxStatus,
  InboundFax,
  InboundFaxPage,
  KeyInfo,
  PluginSummary,
} from "./generated/types";

/** GET /plugins/{id}, its manifest read with the fields the console shows. */
export type PluginDetail = Omit<generated.PluginDetail, "manifest"> & { manifest: Manifest };

export interface Manifest {
  id?: string;
  platform?: string;
  homepage?: string;
  config_schema?: JsonSchema;
  defaults?: Record<string, unknown>;
  ui?: { hints?: Record<string, string>; links?: { label: string; url: string }[]; uiSchema?: Record<string, unknown> };
  [key: string]: unknown;
}

export type JsonSchema = { [key: string]: unknown };

export interface ProviderEntry {
  plugin?: string;
  version?: string;
  enabled?: boolean;
  settings?: Record<string, unknown>;
  [key: string]: unknown;
}

/** GET /plugins/{id}/config, each slot's entry read as config.d writes it. */
export type PluginConfig = Omit<generated.PluginConfig, "slots"> & { slots: Record<string, ProviderEntry> };

export interface RegistryEntry {
  id: string;
  name: string;
  description: string;
  distribution: string;
  versions: string[];
  categories: string[];
  capabilities: string[];
  first_party?: boolean;
  status: string;
  license?: string;
  homepage?: string;
  docs?: string;
}

export interface Registry {
  version: number;
  plugins: RegistryEntry[];
}
