/**
 * The OpenAPI document a client generator reads. @elysiajs/openapi builds it from the route schemas; this module
 * corrects the four things it gets wrong for this service, so openapi-typescript (and any other generator) gets
 * exact types:
 * - our JSON parser (src/plugins/json-body.ts) is a function, which the plugin cannot name, so every JSON body
 *   came out as `content: {}`: the plugin is shown a view of the routes where that parser is "application/json";
 * - `t.Integer` is a string-or-integer union (Elysia coerces query strings with it), which generators turn into
 *   `string | number`: the union is collapsed to its integer member;
 * - a wildcard route's parameter is named `*`, which no generator can name: it becomes `{path}`;
 * - operations without a declared `detail.operationId` get one made from the path (`putV1ProjectsByIdFiles*`):
 *   those are removed, so test/src/routes/openapi-document.test.ts names any route that lacks its own;
 * - a `t.Void()` response (our 204s) comes out as `content: {type: "void"}`, which is not a media type map:
 *   a response with no body has no `content` (OpenAPI 3.1 §4.8.17).
 * @module
 */
import { toOpenAPISchema } from "@elysiajs/openapi";
import type { AnyElysia } from "elysia";
import { isJsonBodyParser } from "./json-body.ts";

type Route = AnyElysia["routes"][number];
/** What @elysiajs/openapi reads of an app: every route of the tree. Protected in Elysia's types, public at run time. */
interface RouteTree {
  getGlobalRoutes(): Route[];
  getGlobalDefinitions(): unknown;
}

/** Every route of the app tree `app` belongs to, plugins' included. */
export function globalRoutes(app: AnyElysia): Route[] {
  return (app as unknown as RouteTree).getGlobalRoutes();
}
type Json = Record<string, unknown>;
type Operation = { operationId?: string; parameters?: Json[] } & Json;
export type Paths = Record<string, Record<string, Operation>>;

/** The name the document gives a wildcard route's parameter (Elysia names it `*`). */
export const WILDCARD_PARAMETER = "path";
const WILDCARD_DESCRIPTION =
  "the file's path inside the project; it may contain slashes (`photos/2026/a.png`), sent as they are or percent-encoded as %2F";

/** The document's `paths` and `components.schemas` for the app's routes, `exclude` as @elysiajs/openapi takes it. */
export function documentPaths(app: AnyElysia, exclude: { paths: string[] }): { paths: Paths; schemas: Json } {
  const tree = app as unknown as RouteTree;
  const view: RouteTree = {
    getGlobalRoutes: () => tree.getGlobalRoutes().map(namedJsonParser),
    getGlobalDefinitions: () => tree.getGlobalDefinitions(),
  };
  const built = toOpenAPISchema(view as unknown as AnyElysia, exclude) as unknown as {
    paths: Paths;
    components: { schemas: Json };
  };
  const declared = new Set(tree.getGlobalRoutes().flatMap((r) => r.hooks?.detail?.operationId ?? []));
  return { paths: finishPaths(built.paths, declared), schemas: exactIntegers(built.components.schemas) as Json };
}

function namedJsonParser(route: Route): Route {
  const parse = (route.hooks as { parse?: { fn: unknown }[] } | undefined)?.parse;
  if (!Array.isArray(parse) || !parse.some((p) => isJsonBodyParser(p.fn))) return route;
  const named = parse.map((p) => (isJsonBodyParser(p.fn) ? { ...p, fn: "application/json" } : p));
  return { ...route, hooks: { ...route.hooks, parse: named } } as Route;
}

/** Wildcards named, undeclared operation ids dropped, integers exact. */
export function finishPaths(paths: Paths, declaredIds: ReadonlySet<string>): Paths {
  const out: Paths = {};
  for (const [path, operations] of Object.entries(paths)) {
    const wildcard = path.endsWith("/*");
    const named = wildcard ? `${path.slice(0, -1)}{${WILDCARD_PARAMETER}}` : path;
    out[named] = {};
    for (const [method, operation] of Object.entries(operations)) {
      const op = exactIntegers(operation) as Operation;
      if (op.operationId !== undefined && !declaredIds.has(op.operationId)) delete op.operationId;
      if (wildcard) op.parameters = (op.parameters ?? []).map(namedWildcard);
      if (op.responses) op.responses = mediaTypesOnly(op.responses as Record<string, Json>);
      out[named][method] = op;
    }
  }
  return out;
}

function mediaTypesOnly(responses: Record<string, Json>): Record<string, Json> {
  const out: Record<string, Json> = {};
  for (const [status, response] of Object.entries(responses)) {
    const { content, ...rest } = response;
    if (content === undefined || content === null || typeof content !== "object") {
      out[status] = response;
      continue;
    }
    const media = Object.entries(content as Json).filter(([type]) => type.includes("/"));
    out[status] = media.length > 0 ? { ...rest, content: Object.fromEntries(media) } : rest;
  }
  return out;
}

function namedWildcard(parameter: Json): Json {
  if (parameter.in !== "path" || parameter.name !== "*") return parameter;
  return { ...parameter, name: WILDCARD_PARAMETER, description: WILDCARD_DESCRIPTION };
}

/**
 * A copy with every `anyOf: [{type: string, format: integer|numeric}, {type: integer|number, ...}]` (Elysia's
 * coercing t.Integer / t.Numeric) replaced by its numeric member, keeping the outer description and bounds.
 */
export function exactIntegers(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(exactIntegers);
  if (value === null || typeof value !== "object") return value;
  const node = value as Json;
  const numeric = coercedNumber(node.anyOf);
  const out: Json = {};
  for (const [key, child] of Object.entries(node)) {
    if (numeric && key === "anyOf") continue;
    out[key] = exactIntegers(child);
  }
  return numeric ? { ...out, ...numeric } : out;
}

function coercedNumber(anyOf: unknown): Json | undefined {
  if (!Array.isArray(anyOf) || anyOf.length !== 2) return undefined;
  const text = anyOf.find((s: Json) => s?.type === "string" && (s.format === "integer" || s.format === "numeric"));
  const number = anyOf.find((s: Json) => s?.type === "integer" || s?.type === "number");
  return text && number ? (number as Json) : undefined;
}
