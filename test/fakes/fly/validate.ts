// Validates request bodies against the schemas of the published OpenAPI document (lib/fly/spec/), the way the
// real API rejects a malformed body with 400 {error}. Two deliberate adjustments, both to match what the real
// API accepts although the spec does not say so:
// - `fly.MachineService.autostop` also accepts booleans (the spec's own description: "Accepts a string (new
//   format) or a boolean (old format)").
// - `AppSecretsUpdateRequest.values` accepts null values: flyctl unsets secrets by sending `null` (fly-go
//   secrets API, flyctl-behaviours.md §4.1).
// - `CreateAppRequest.app_name`: the docs' name for the spec's `name` (which one is read is a fake mode).
// And one deliberate strictness: unknown fields are rejected (real API: silently ignored). A misspelt config key
// that Fly would drop without a word is a bug we want the tests to see; `rejectUnknownFields: false` turns it off.

import { readFileSync } from "node:fs";
import Ajv2020, { type ErrorObject, type ValidateFunction } from "ajv/dist/2020.js";

const SPEC_PATH = new URL("../../../lib/fly/spec/fly-machines-openapi.json", import.meta.url);

type JsonObject = Record<string, unknown>;

export type BodyValidator = (schemaName: string, body: unknown) => string | undefined;

const cache = new Map<boolean, BodyValidator>();

/** Returns a function that gives an error message for an invalid body, or undefined when it is valid. */
export function specValidator(rejectUnknownFields: boolean): BodyValidator {
  const cached = cache.get(rejectUnknownFields);
  if (cached) return cached;
  const spec = JSON.parse(readFileSync(SPEC_PATH, "utf8")) as { components: { schemas: Record<string, JsonObject> } };
  const schemas = structuredClone(spec.components.schemas);
  adjust(schemas);
  if (rejectUnknownFields) for (const schema of Object.values(schemas)) closeObjects(schema);
  const ajv = new Ajv2020({ strict: false, allErrors: false, validateFormats: false });
  ajv.addSchema({ $id: "fly", components: { schemas } });
  const compiled = new Map<string, ValidateFunction>();
  const validator: BodyValidator = (schemaName, body) => {
    let validate = compiled.get(schemaName);
    if (!validate) {
      const found = ajv.getSchema(`fly#/components/schemas/${escapePointer(schemaName)}`);
      if (!found) throw new Error(`fake Fly: no schema ${schemaName} in the spec`);
      validate = found;
      compiled.set(schemaName, validate);
    }
    if (validate(body)) return undefined;
    return describeErrors(schemaName, validate.errors ?? []);
  };
  cache.set(rejectUnknownFields, validator);
  return validator;
}

function adjust(schemas: Record<string, JsonObject>): void {
  const service = schemas["fly.MachineService"]?.properties as JsonObject | undefined;
  if (service?.autostop) {
    const autostop = service.autostop as JsonObject;
    service.autostop = {
      description: autostop.description,
      anyOf: [{ type: "string", enum: autostop.enum }, { type: "boolean" }],
    };
  }
  const secrets = schemas.AppSecretsUpdateRequest?.properties as JsonObject | undefined;
  if (secrets?.values) secrets.values = { type: "object", additionalProperties: { type: ["string", "null"] } };
  // Fly's Apps docs name the app `app_name` where the spec says `name` (fly-machines-api.md §4): a known field.
  const app = schemas.CreateAppRequest?.properties as JsonObject | undefined;
  if (app) app.app_name = { type: "string" };
}

/** Adds additionalProperties:false to every object schema that lists its properties and says nothing else. */
function closeObjects(node: unknown): void {
  if (Array.isArray(node)) {
    for (const item of node) closeObjects(item);
    return;
  }
  if (!node || typeof node !== "object") return;
  const schema = node as JsonObject;
  if (schema.properties && typeof schema.properties === "object" && schema.additionalProperties === undefined) {
    schema.additionalProperties = false;
  }
  for (const value of Object.values(schema)) closeObjects(value);
}

function escapePointer(name: string): string {
  return name.replace(/~/g, "~0").replace(/\//g, "~1");
}

function describeErrors(schemaName: string, errors: ErrorObject[]): string {
  const first = errors[0];
  if (!first) return `invalid ${schemaName}`;
  const where = first.instancePath || "(body)";
  if (first.keyword === "additionalProperties") {
    const extra = (first.params as { additionalProperty?: string }).additionalProperty;
    return `invalid ${schemaName}: ${where} has unknown field "${extra}" (the real API would silently ignore it)`;
  }
  return `invalid ${schemaName}: ${where} ${first.message ?? "is invalid"}`;
}
