/**
 * Prometheus metrics collected per app instance (its own prom-client Registry, so tests can build many apps):
 * request count and duration by method, route template and status; in-flight requests; the database pool;
 * process memory and prom-client's default process metrics. Labels use the route template (/v1/projects/:id),
 * never the raw path, so ids cannot explode the series count.
 * @module
 */
import { Elysia } from "elysia";
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import type { Database } from "../db/database.ts";

export interface Metrics {
  registry: Registry;
  requests: Counter<"method" | "route" | "status">;
  duration: Histogram<"method" | "route" | "status">;
  inFlight: Gauge;
}

export function createMetrics(db: Pick<Database, "poolStats">): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const labelNames = ["method", "route", "status"] as const;
  const metrics: Metrics = {
    registry,
    requests: new Counter({ name: "http_requests_total", help: "HTTP requests answered", labelNames, registers: [registry] }),
    duration: new Histogram({
      name: "http_request_duration_seconds",
      help: "Time from request received to response handed to the server",
      labelNames,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    inFlight: new Gauge({ name: "http_requests_in_flight", help: "Requests being handled", registers: [registry] }),
  };
  new Gauge({
    name: "db_pool_max_connections",
    help: "Connections the database pool may open (SQLite: 1)",
    labelNames: ["dialect"],
    registers: [registry],
    collect() {
      const stats = db.poolStats();
      this.set({ dialect: stats.dialect }, stats.size);
    },
  });
  new Gauge({
    name: "process_memory_bytes",
    help: "process.memoryUsage() by kind",
    labelNames: ["kind"],
    registers: [registry],
    collect() {
      const usage = process.memoryUsage();
      this.set({ kind: "rss" }, usage.rss);
      this.set({ kind: "heap_used" }, usage.heapUsed);
      this.set({ kind: "heap_total" }, usage.heapTotal);
      this.set({ kind: "external" }, usage.external);
    },
  });
  return metrics;
}

const started = new WeakMap<Request, number>();

/**
 * Register after CORS: a preflight answered in CORS's onRequest never reaches this hook, and Elysia fires no
 * afterResponse for it, so counting it here would leave the in-flight gauge permanently raised.
 */
export function requestMetrics(metrics: Metrics) {
  return new Elysia({ name: "request-metrics" })
    .onRequest(function countRequest({ request }) {
      started.set(request, performance.now());
      metrics.inFlight.inc();
    })
    .onAfterResponse({ as: "global" }, function recordRequest(ctx) {
      const begin = started.get(ctx.request);
      if (begin === undefined) return;
      started.delete(ctx.request);
      metrics.inFlight.dec();
      const returned = (ctx as { responseValue?: unknown }).responseValue;
      const status = returned instanceof Response ? returned.status : typeof ctx.set.status === "number" ? ctx.set.status : 200;
      const labels = { method: ctx.request.method, route: (ctx as { route?: string }).route ?? "unmatched", status: String(status) };
      metrics.requests.inc(labels);
      metrics.duration.observe(labels, (performance.now() - begin) / 1000);
    });
}
