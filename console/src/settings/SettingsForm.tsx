// A plugin's settings through react-jsonschema-form, from its manifest's config_schema:
// read-only on the Plugins page, editable on Propose a change. Secret settings are plain
// text fields labelled "secret reference", since what they hold and show is a reference
// (${env:NAME}), never the secret.
import Form from "@rjsf/core";
import type { CustomValidator, RJSFSchema, UiSchema } from "@rjsf/utils";
import type { Manifest } from "../api/models";
import { secretSettings } from "./secrets";
import { settingsValidator } from "./validator";

export function uiSchemaFor(manifest: Manifest, readonly: boolean): UiSchema {
  const ui: UiSchema = { ...(manifest.ui?.uiSchema ?? {}) };
  for (const [name, hint] of Object.entries(manifest.ui?.hints ?? {})) {
    ui[name] = { ...(ui[name] as object | undefined), "ui:help": hint };
  }
  const properties = (manifest.config_schema?.properties ?? {}) as Record<string, { title?: unknown }>;
  for (const name of secretSettings(manifest.config_schema)) {
    const hint = (ui[name] as { "ui:help"?: string } | undefined)?.["ui:help"];
    const secretNote = readonly
      ? "Secret: only its reference is shown, as config.d gives it (${env:…} or ${file:…}); the appliance resolves it when it starts and never shows the value."
      : "Secret: only a reference is accepted; the current reference stays unless you change it.";
    const title = typeof properties[name]?.title === "string" ? (properties[name]?.title as string) : name;
    ui[name] = {
      ...(ui[name] as object | undefined),
      "ui:title": `${title} (secret reference)`,
      "ui:help": hint ? `${hint} ${secretNote}` : secretNote,
      "ui:widget": "text",
      "ui:placeholder": "${env:NAME} or ${file:/run/secrets/name}",
      "ui:autocomplete": "off",
    };
  }
  ui["ui:submitButtonOptions"] = { norender: true };
  if (readonly) ui["ui:readonly"] = true;
  return ui;
}

export function SettingsForm({
  id,
  manifest,
  settings,
  readonly,
  onChange,
  customValidate,
}: {
  id: string;
  manifest: Manifest;
  settings: Record<string, unknown>;
  readonly: boolean;
  onChange?: (settings: Record<string, unknown>) => void;
  customValidate?: CustomValidator;
}) {
  const schema = { ...(manifest.config_schema ?? { type: "object" }) } as RJSFSchema;
  delete schema.title;
  return (
    <Form
      className="settings-form"
      idPrefix={id}
      schema={schema}
      uiSchema={uiSchemaFor(manifest, readonly)}
      formData={settings}
      validator={settingsValidator}
      readonly={readonly}
      liveValidate={readonly ? undefined : "onChange"}
      noHtml5Validate
      showErrorList={false}
      customValidate={customValidate}
      onChange={(event) => onChange?.((event.formData ?? {}) as Record<string, unknown>)}
    />
  );
}
