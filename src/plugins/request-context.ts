/**
 * Request ids and the access log. The id comes from Fly's proxy (`Fly-Request-Id`), else the client's
 * `X-Request-Id`, else is generated; it is echoed as `X-Request-Id` and logged once per request with the
 * route template, never with headers such as Authorization or cookies.
 *
 * Per-request state (id, start time, whether metrics counted it) lives in one object per request, looked up
 * once by each plugin that needs it, instead of one WeakMap per plugin.
 * @module
 */
import { Elysia } from "elysia";
import type { Logger } from "../../lib/log.ts";
import type { Responder } from "./json-response.ts";

export interface RequestState {
  id: string;
  /** performance.now() when the first hook saw the request. */
  startedAt: number;
  /** Set by the metrics plugin while the request is counted as in flight. */
  counted: boolean;
  /** Whether the access log has its line: a response that fails validation passes mapResponse twice. */
  logged: boolean;
  /**
   * Why an error answer was sent, set by the error handler: a dependency fault's code (`database_unavailable`,
   * `insufficient_storage`) or `bug` for a 500, so logs and metrics tell an outage from our own errors.
   */
  fault?: string;
}

const states = new WeakMap<Request, RequestState>();
// Incoming ids are echoed into headers and logs, so only a conservative alphabet and length are accepted.
const SAFE_ID = /^[A-Za-z0-9_\-.:=]{1,128}$/;

/** The state of a request, created on first use (an error raised before any hook ran still gets an id). */
export function requestStateOf(request: Request): RequestState {
  let state = states.get(request);
  if (state === undefined) {
    const incoming = request.headers.get("fly-request-id") ?? request.headers.get("x-request-id");
    state = {
      id: incoming && SAFE_ID.test(incoming) ? incoming : crypto.randomUUID(),
      startedAt: performance.now(),
      counted: false,
      logged: false,
    };
    states.set(request, state);
  }
  return state;
}

export function requestIdOf(request: Request): string {
  return requestStateOf(request).id;
}

/**
 * The context fields the hooks here read. Hooks destructure exactly these in their parameter list: Elysia
 * reads hook sources to decide what to prepare per request, and a hook taking the whole context made every
 * route parse cookies, the query and all headers (measured with `bun --cpu-prof`, issue 13).
 * `path` and `route` are on Elysia's context at run time though its hook types do not declare them.
 * Elysia also reads a hook's source to decide whether to await it: a `return` followed by a call, or the
 * words async/await anywhere in it, make it awaited on every request, so hooks here avoid both.
 */
export interface HookContext {
  request: Request;
  set: { headers: Record<string, string | number>; status?: unknown };
  path?: string;
  route?: string;
  responseValue?: unknown;
}

/**
 * The request path without the query: the one Elysia already cut from the URL (parsing request.url again
 * cost a URL object per request), else cut here.
 */
export function pathOf(request: Request, path: string | undefined): string {
  if (typeof path === "string") return path;
  const url = request.url;
  const start = url.indexOf("/", url.indexOf("//") + 2);
  const query = url.indexOf("?", start);
  return start === -1 ? "/" : url.slice(start, query === -1 ? undefined : query);
}

/** The status that was sent: a returned Response carries its own; otherwise what the handler or error handler set. */
export function responseStatus(set: { status?: unknown }, responseValue: unknown): number {
  if (responseValue instanceof Response) return responseValue.status;
  return typeof set.status === "number" ? set.status : 200;
}

export interface AccessLogRecord {
  method: string;
  route: string;
  status: number;
  duration_ms: number;
  request_id: string;
  /** Present on error answers only: see RequestState.fault. */
  fault?: string;
}

/** Called once per finished request with its log record, its state and the exact elapsed milliseconds. */
export type RequestFinisher = (record: AccessLogRecord, state: RequestState, elapsedMs: number) => void;

/**
 * The access log (and `finishers`, request metrics among them) is written from a global mapResponse hook, the
 * last step before Elysia builds the Response, both for a route's answer and for the error handler's (404s
 * and errors thrown by other hooks included). Elysia's afterResponse would also do, but it schedules a task
 * per request: measured in process, a no-op afterResponse hook added 1.4 us to a /health/live request, a
 * no-op mapResponse hook 0.05 us. A preflight answered in onRequest passes neither and is not logged.
 *
 * `respond` builds the Response itself where it can, and otherwise adds the usual headers for Elysia to send
 * (src/plugins/json-response.ts). It runs from this hook
 * because Elysia runs a route's mapResponse hooks only up to the first one that returns a value, and this one
 * must return one (see below).
 */
export function requestContext(logger: Logger, finishers: RequestFinisher[] = [], respond?: Responder) {
  const writeLine = logger.lineWriter("info", "request");
  return new Elysia({ name: "request-context" })
    .onRequest(function requestContext({ request, set }) {
      set.headers["x-request-id"] = requestStateOf(request).id;
    })
    .mapResponse({ as: "global" }, function accessLog({ request, set, path, route, responseValue }: HookContext) {
      const state = requestStateOf(request);
      if (!state.logged) {
        state.logged = true;
        const elapsedMs = performance.now() - state.startedAt;
        const record: AccessLogRecord = {
          method: request.method,
          // The route template, not the raw path: ids in paths would explode metric cardinality and log noise.
          route: route ?? "unmatched",
          status: responseStatus(set, responseValue),
          duration_ms: Math.round(elapsedMs * 100) / 100,
          request_id: state.id,
        };
        if (state.fault !== undefined) record.fault = state.fault;
        for (const finish of finishers) finish(record, state, elapsedMs);
        if (writeLine !== undefined) writeLine(accessLogMembers(record));
      }
      // Not `return respond.finish(...)`: Elysia reads a `return` followed by a call as an async hook (see HookContext).
      let built: Response | undefined;
      if (respond !== undefined) built = respond.finish(responseValue, set, pathOf(request, path));
      // Returned unchanged: on its error path (a 404, say) Elysia sends what this hook returns, even undefined.
      // Elysia's type asks for a Response; any value is mapped like a handler's.
      return (built ?? responseValue) as Response;
    });
}

const quoted = new Map<string, string>();
/** JSON for the strings that repeat on every line (methods, route templates), quoted once each. */
function quote(text: string): string {
  let json = quoted.get(text);
  if (json === undefined) {
    json = JSON.stringify(text);
    if (quoted.size < 1024) quoted.set(text, json);
  }
  return json;
}

/**
 * The record as JSON members for Logger.lineWriter: what `logger.info("request", record)` writes, without
 * walking the record. The request id needs no escaping: it is a UUID or matched SAFE_ID.
 */
export function accessLogMembers(record: AccessLogRecord): string {
  const members = `,"method":${quote(record.method)},"route":${quote(record.route)},"status":${record.status},"duration_ms":${record.duration_ms},"request_id":"${record.request_id}"`;
  return record.fault === undefined ? members : `${members},"fault":${quote(record.fault)}`;
}
