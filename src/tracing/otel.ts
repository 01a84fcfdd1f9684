/**
 * OpenTelemetry tracing, loaded only when a collector is configured (setup.ts): one SERVER span per request
 * named by its route template, continuing the caller's W3C `traceparent`, and one CLIENT span per repository
 * call beneath it, exported over OTLP/HTTP (JSON) in batches.
 *
 * What spans carry is chosen, not collected: the method, the path without its query, the route template, the
 * status, the request id; for the database the system and the repository call. Never a header (Authorization,
 * Cookie), a query string, a body, SQL parameters or a driver's message (which can quote a row's values): a
 * failed call records its error's code or name only. Attribute names follow OpenTelemetry's stable HTTP and
 * database conventions (https://opentelemetry.io/docs/specs/semconv/http/http-spans/,
 * https://opentelemetry.io/docs/specs/semconv/database/database-spans/).
 * @module
 */
import { context, propagation, type Span, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { resourceFromAttributes } from "@opentelemetry/resources";
import {
  BatchSpanProcessor,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  TracerProvider,
} from "@opentelemetry/sdk-trace";
import type { Logger } from "../../lib/log.ts";
import type { AccessLogRecord } from "../plugins/request-context.ts";
import type { Tracing } from "./setup.ts";

export interface TracingSettings {
  endpoint: string;
  headers: Record<string, string>;
  sampleRatio: number;
  serviceName: string;
  serviceVersion: string;
  environment: string;
  region?: string;
  machineId?: string;
}

/** How often buffered spans are sent; OpenTelemetry's default is 5 s, a machine that stops sooner flushes then. */
const EXPORT_DELAY_MS = 1000;

export function startTracing(settings: TracingSettings, logger: Logger): Tracing {
  const exporter = new OTLPTraceExporter({ url: `${settings.endpoint}/v1/traces`, headers: settings.headers });
  const provider = new TracerProvider({
    resource: resourceFromAttributes({
      "service.name": settings.serviceName,
      "service.version": settings.serviceVersion,
      "deployment.environment.name": settings.environment,
      ...(settings.region ? { "cloud.provider": "fly_io", "cloud.region": settings.region } : {}),
      ...(settings.machineId ? { "service.instance.id": settings.machineId } : {}),
    }),
    // A caller's sampling decision stands (its traceparent); a new trace is sampled at the configured ratio.
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(settings.sampleRatio) }),
    spanProcessors: [new BatchSpanProcessor({ exporter, scheduledDelayMillis: EXPORT_DELAY_MS })],
  });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  const tracer = provider.getTracer("flightdeck");
  logger.info("tracing on", { endpoint: settings.endpoint, sample_ratio: settings.sampleRatio });

  const headerGetter = {
    keys: (carrier: Headers) => [...carrier.keys()],
    get: (carrier: Headers, key: string) => carrier.get(key) ?? undefined,
  };

  return {
    wrap(handle) {
      return (request) => {
        const parent = propagation.extract(context.active(), request.headers, headerGetter);
        const url = new URL(request.url);
        const span = tracer.startSpan(
          request.method,
          {
            kind: SpanKind.SERVER,
            attributes: { "http.request.method": request.method, "url.path": url.pathname, "url.scheme": "http" },
          },
          parent,
        );
        return context.with(trace.setSpan(parent, span), async () => {
          try {
            return await handle(request);
          } catch (error) {
            failed(span, error);
            throw error;
          } finally {
            span.end();
          }
        });
      };
    },

    traceDatabase(db) {
      const system = db.dialect === "postgres" ? "postgresql" : "sqlite";
      return { ...db, ping: db.ping.bind(db), repo: traced(db.repo, "", (name, call) => inSpan(name, system, call)) };
    },

    finish(record: AccessLogRecord) {
      const span = trace.getActiveSpan();
      if (span === undefined) return;
      if (record.route !== "unmatched") {
        span.updateName(`${record.method} ${record.route}`);
        span.setAttribute("http.route", record.route);
      }
      span.setAttribute("http.response.status_code", record.status);
      span.setAttribute("flightdeck.request_id", record.request_id);
      // Server spans are errors for 5xx only: a 4xx is the client's (semconv, "Status").
      if (record.status >= 500) span.setStatus({ code: SpanStatusCode.ERROR, message: record.fault });
    },

    async shutdown(timeoutMs) {
      await Promise.race([provider.shutdown(), Bun.sleep(timeoutMs)]).catch((error) =>
        logger.warn("tracing: spans not sent at shutdown", { error: errorLabel(error) }),
      );
    },
  };

  function inSpan<T>(name: string, system: string, call: () => T): T {
    const span = tracer.startSpan(
      name,
      { kind: SpanKind.CLIENT, attributes: { "db.system.name": system, "db.operation.name": name } },
      context.active(),
    );
    let result: T;
    try {
      result = context.with(trace.setSpan(context.active(), span), call);
    } catch (error) {
      failed(span, error);
      span.end();
      throw error;
    }
    if (result instanceof Promise)
      return result.then(
        (value) => {
          span.end();
          return value;
        },
        (error) => {
          failed(span, error);
          span.end();
          throw error;
        },
      ) as T;
    span.end();
    return result;
  }
}

function failed(span: Span, error: unknown) {
  const label = errorLabel(error);
  span.setStatus({ code: SpanStatusCode.ERROR, message: label });
  span.setAttribute("error.type", label);
}

/** An error's code (PostgreSQL's SQLSTATE, a Node code) or its class name: never its message. */
function errorLabel(error: unknown): string {
  const code = (error as { code?: unknown } | undefined)?.code;
  if (typeof code === "string" && code !== "") return code;
  return error instanceof Error ? error.name : "error";
}

type Wrap = <T>(name: string, call: () => T) => T;

/** The repository with every method (at any depth: users.create, sessions.revoke, ...) run inside `wrap`. */
function traced<T extends object>(target: T, prefix: string, wrap: Wrap): T {
  const cache = new Map<PropertyKey, unknown>();
  return new Proxy(target, {
    get(object, key, receiver) {
      const value = Reflect.get(object, key, receiver);
      if (typeof key === "symbol" || value === null || (typeof value !== "function" && typeof value !== "object"))
        return value;
      if (!cache.has(key)) {
        const name = prefix ? `${prefix}.${key}` : key;
        cache.set(
          key,
          typeof value === "function"
            ? (...args: unknown[]) => wrap(name, () => (value as (...a: unknown[]) => unknown).apply(object, args))
            : traced(value as object, name, wrap),
        );
      }
      return cache.get(key);
    },
  });
}
