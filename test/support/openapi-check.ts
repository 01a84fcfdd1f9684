/**
 * What a client generator needs from /openapi.json, checked against the app's real route table: every route is
 * documented, every operation has its own camelCase operationId (unique), every route that validates a body has
 * that body's schema under application/json, every response content is a media type with a schema, and no number
 * is typed string-or-integer. Each problem is one
 * line naming the route, so a failing test says what to fix.
 * @module
 */
import type { AnyElysia } from "elysia";

type Json = Record<string, any>;
export type OpenApiDocument = { paths: Record<string, Record<string, Json>> } & Json;

const OPERATION_ID = /^[a-z][a-zA-Z0-9]*$/;

/** The document's path for an Elysia route path: `:id` is `{id}`, the trailing wildcard is `{path}`. */
export function documentPath(routePath: string): string {
  return routePath.replace(/:([^/]+)/g, "{$1}").replace(/\/\*$/, "/{path}");
}

export function documentProblems(app: AnyElysia, doc: OpenApiDocument): string[] {
  const problems: string[] = [];
  const ids = new Map<string, string>();
  for (const route of app.routes) {
    const hooks = route.hooks as Json | undefined;
    if (hooks?.detail?.hide) continue;
    const where = `${route.method} ${route.path}`;
    const op = doc.paths[documentPath(route.path)]?.[route.method.toLowerCase()];
    if (!op) {
      problems.push(`${where}: missing from the document`);
      continue;
    }
    const id = op.operationId;
    if (typeof id !== "string") problems.push(`${where}: no operationId (declare detail.operationId)`);
    else if (!OPERATION_ID.test(id)) problems.push(`${where}: operationId ${id} is not camelCase`);
    else if (ids.has(id)) problems.push(`${where}: operationId ${id} is also ${ids.get(id)}'s`);
    else ids.set(id, where);
    if (hooks?.body) {
      const schema = op.requestBody?.content?.["application/json"]?.schema;
      if (schema?.type !== "object" || !schema.properties)
        problems.push(`${where}: the JSON body's schema is not under requestBody.content["application/json"]`);
    }
    for (const [key, media] of Object.entries<Json>(op.requestBody?.content ?? {}))
      if (!media?.schema) problems.push(`${where}: request body ${key} has no schema`);
    for (const [status, response] of Object.entries<Json>(op.responses ?? {}))
      for (const [key, media] of Object.entries<Json>(response.content ?? {}))
        if (!key.includes("/") || !media?.schema)
          problems.push(`${where}: response ${status} content ${key} is no media type with a schema`);
    if (op.requestBody && Object.keys(op.requestBody.content ?? {}).length === 0)
      problems.push(`${where}: request body with no content type (content: {})`);
  }
  for (const path of findLooseIntegers(doc)) problems.push(`${path}: a number typed as string-or-number`);
  return problems;
}

/** JSON pointers of every anyOf that mixes a numeric string with a number (Elysia's coercing t.Integer). */
export function findLooseIntegers(value: unknown, pointer = ""): string[] {
  if (value === null || typeof value !== "object") return [];
  const node = value as Json;
  const found: string[] = [];
  if (Array.isArray(node.anyOf)) {
    const numericString = node.anyOf.some((s: Json) => s?.type === "string" && /integer|numeric/.test(s.format));
    const number = node.anyOf.some((s: Json) => s?.type === "integer" || s?.type === "number");
    if (numericString && number) found.push(pointer);
  }
  for (const [key, child] of Object.entries(node)) found.push(...findLooseIntegers(child, `${pointer}/${key}`));
  return found;
}
