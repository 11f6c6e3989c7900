// react-jsonschema-form's validator, backed by @cfworker/json-schema: it checks the settings
// against the plugin's config_schema (draft 2020-12, as the compiler does) without compiling
// code at run time, which the console's CSP (script-src 'self', no 'unsafe-eval') forbids
// and ajv needs. Messages use the schema's `x-error` where it has one, like the compiler.
import { Validator as SchemaValidator, type OutputUnit } from "@cfworker/json-schema";
import {
  createErrorHandler,
  ErrorSchemaBuilder,
  mergeObjects,
  toErrorList,
  unwrapErrorHandler,
  type CustomValidator,
  type ErrorTransformer,
  type RJSFSchema,
  type RJSFValidationError,
  type UiSchema,
  type ValidationData,
  type ValidatorType,
} from "@rjsf/utils";

const CONTAINERS = new Set(["properties", "items", "prefixItems", "allOf", "anyOf", "oneOf", "$ref", "additionalProperties"]);

function schemaAt(root: unknown, pointer: string): unknown {
  let node = root;
  for (const raw of pointer.replace(/^#\/?/, "").split("/")) {
    if (raw === "") continue;
    const part = decodeURIComponent(raw).replace(/~1/g, "/").replace(/~0/g, "~");
    if (typeof node !== "object" || node === null) return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return node;
}

function fieldPath(instanceLocation: string): string[] {
  return instanceLocation
    .replace(/^#\/?/, "")
    .split("/")
    .filter((part) => part !== "")
    .map((part) => decodeURIComponent(part).replace(/~1/g, "/").replace(/~0/g, "~"));
}

function messageFor(unit: OutputUnit, schema: unknown): string {
  const parent = unit.keywordLocation.replace(/\/[^/]*$/, "");
  const node = schemaAt(schema, parent);
  if (typeof node === "object" && node !== null) {
    const custom = (node as Record<string, unknown>)["x-error"];
    if (typeof custom === "string") return custom;
  }
  // cfworker says 'Instance "x" does not match pattern ...'; keep the part after the value.
  return unit.error.replace(/^Instance(?: "[^"]*"| at "#[^"]*")? /, "");
}

export function check(schema: unknown, data: unknown): { path: string[]; message: string }[] {
  const validator = new SchemaValidator(schema as object, "2020-12", false);
  const result = validator.validate(data);
  if (result.valid) return [];
  const seen = new Set<string>();
  const found: { path: string[]; message: string }[] = [];
  for (const unit of result.errors) {
    if (CONTAINERS.has(unit.keyword)) continue; // the summary of an error reported below it
    const path = fieldPath(unit.instanceLocation);
    const message = messageFor(unit, schema);
    const key = `${path.join("/")}\u0000${message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    found.push({ path, message });
  }
  return found;
}

export const settingsValidator: ValidatorType = {
  validateFormData(
    formData: unknown,
    schema: RJSFSchema,
    customValidate?: CustomValidator,
    transformErrors?: ErrorTransformer,
    uiSchema?: UiSchema,
  ): ValidationData<unknown> {
    const builder = new ErrorSchemaBuilder();
    let errors: RJSFValidationError[] = check(schema, formData ?? {}).map(({ path, message }) => {
      builder.addErrors(message, path.length > 0 ? path : undefined);
      const property = path.map((part) => `.${part}`).join("");
      return { property, message, stack: `${property || "settings"} ${message}`.trim() };
    });
    let errorSchema = builder.ErrorSchema;
    if (customValidate) {
      const handler = customValidate(formData, createErrorHandler(formData), uiSchema, errorSchema);
      const custom = unwrapErrorHandler(handler);
      errorSchema = mergeObjects(errorSchema, custom, true) as typeof errorSchema;
      errors = [...errors, ...toErrorList(custom)];
    }
    if (transformErrors) errors = transformErrors(errors, uiSchema);
    return { errors, errorSchema };
  },
  isValid(schema: RJSFSchema, formData: unknown, rootSchema: RJSFSchema): boolean {
    const combined = { ...rootSchema, ...schema } as object;
    return new SchemaValidator(combined, "2020-12", false).validate(formData).valid;
  },
  rawValidation<Result = unknown>(schema: RJSFSchema, formData?: unknown) {
    const result = new SchemaValidator(schema as object, "2020-12", false).validate(formData);
    return { errors: result.errors as Result[] };
  },
};
