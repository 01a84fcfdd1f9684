/**
 * Request ids and the access log. The id comes from Fly's proxy (`Fly-Request-Id`), else the client's
 * `X-Request-Id`, else is generated; it is echoed as `X-Request-Id` and logged once per request with the
 * route template, never with headers such as Authorization or cookies.
 * @module
 */
import { Elysia } from "elysia";
import type { Logger } from "../../lib/log.ts";

const ids = new WeakMap<Request, string>();
const starts = new WeakMap<Request, number>();
// Incoming ids are echoed into headers and logs, so only a conservative alphabet and length are accepted.
const SAFE_ID = /^[A-Za-z0-9_\-.:=]{1,128}$/;

export function requestIdOf(request: Request): string {
  let id = ids.get(request);
  if (id === undefined) {
    const incoming = request.headers.get("fly-request-id") ?? request.headers.get("x-request-id");
    id = incoming && SAFE_ID.test(incoming) ? incoming : crypto.randomUUID();
    ids.set(request, id);
  }
  return id;
}

export interface AccessLogRecord {
  method: string;
  route: string;
  status: number;
  duration_ms: number;
  request_id: string;
}

export function requestContext(logger: Logger, onFinished?: (record: AccessLogRecord) => void) {
  return new Elysia({ name: "request-context" })
    .onRequest(function requestContext({ request, set }) {
      starts.set(request, performance.now());
      set.headers["x-request-id"] = requestIdOf(request);
    })
    .onAfterResponse({ as: "global" }, function accessLog(ctx) {
      const { request, set } = ctx;
      const started = starts.get(request) ?? performance.now();
      const record: AccessLogRecord = {
        method: request.method,
        // The route template, not the raw path: ids in paths would explode metric cardinality and log noise.
        route: (ctx as { route?: string }).route ?? "unmatched",
        status: typeof set.status === "number" ? set.status : 200,
        duration_ms: Math.round((performance.now() - started) * 100) / 100,
        request_id: requestIdOf(request),
      };
      onFinished?.(record);
      logger.info("request", { ...record });
    });
}
