/**
 * Prometheus metrics collected per app instance (its own prom-client Registry, so tests can build many apps):
 * request count and duration by method, route template and status; in-flight requests; the database pool;
 * process memory and prom-client's default process metrics. Labels use the route template (/v1/projects/:id),
 * never the raw path, so ids cannot explode the series count.
 *
 * The per-request series are counted by RequestSeries rather than prom-client's Counter and Histogram:
 * those hash the label object on every observation, which cost about 7% of a /health/live request
 * (`bun --cpu-prof`; `bun run bench:plugins`). RequestSeries keys a series by one string and turns it into the
 * same exposition only when /metrics is scraped.
 * @module
 */
import { Elysia } from "elysia";
import type { Registry } from "prom-client";
import type { Database } from "../db/database.ts";
import { volumeSpace } from "../media/space.ts";
import { type RequestFinisher, requestStateOf } from "./request-context.ts";

export const DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;

interface Series {
  labels: { method: string; route: string; status: string };
  count: number;
  sum: number;
  /** Non-cumulative: perBucket[i] counts observations in (bound[i-1], bound[i]]; the last slot is above all bounds. */
  perBucket: number[];
}

interface MetricValue {
  value: number;
  labels: Record<string, string>;
  metricName?: string;
}

/** Request count and duration series, exposed to a prom-client Registry as http_requests_total and http_request_duration_seconds. */
export class RequestSeries {
  private readonly series = new Map<string, Series>();
  inFlight = 0;

  observe(method: string, route: string, status: number, seconds: number) {
    const key = `${method} ${status} ${route}`;
    let series = this.series.get(key);
    if (series === undefined) {
      series = {
        labels: { method, route, status: String(status) },
        count: 0,
        sum: 0,
        perBucket: new Array(DURATION_BUCKETS.length + 1).fill(0),
      };
      this.series.set(key, series);
    }
    series.count += 1;
    series.sum += seconds;
    let bucket = 0;
    while (bucket < DURATION_BUCKETS.length && seconds > DURATION_BUCKETS[bucket]!) bucket += 1;
    series.perBucket[bucket]! += 1;
  }

  /** Registers the two metrics with a registry in prom-client's metric shape (name, help, type, get()). */
  register(registry: Registry) {
    const all = () => [...this.series.values()];
    const counter = {
      name: "http_requests_total",
      help: "HTTP requests answered",
      type: "counter",
      aggregator: "sum",
      get: async () => ({ ...counter, values: all().map((s): MetricValue => ({ value: s.count, labels: s.labels })) }),
      reset: () => this.series.clear(),
    };
    const histogram = {
      name: "http_request_duration_seconds",
      help: "Time from request received to response handed to the server",
      type: "histogram",
      aggregator: "sum",
      get: async () => ({ ...histogram, values: all().flatMap((s) => histogramValues(histogram.name, s)) }),
      reset: () => this.series.clear(),
    };
    // prom-client's Registry reads a metric only through these members; its types ask for its own classes.
    registry.registerMetric(counter as never);
    registry.registerMetric(histogram as never);
  }
}

function histogramValues(name: string, s: Series): MetricValue[] {
  const values: MetricValue[] = [];
  let cumulative = 0;
  for (let i = 0; i < DURATION_BUCKETS.length; i++) {
    cumulative += s.perBucket[i]!;
    values.push({
      metricName: `${name}_bucket`,
      labels: { le: String(DURATION_BUCKETS[i]), ...s.labels },
      value: cumulative,
    });
  }
  values.push({ metricName: `${name}_bucket`, labels: { le: "+Inf", ...s.labels }, value: s.count });
  values.push({ metricName: `${name}_sum`, labels: s.labels, value: s.sum });
  values.push({ metricName: `${name}_count`, labels: s.labels, value: s.count });
  return values;
}

/**
 * Error answers by why they were sent: `kind="dependency"` (the database down, the volume full: nothing for us
 * to fix in code) apart from `kind="bug"` (a 500), so an alert on bugs does not fire for an outage.
 */
export class ErrorCounts {
  private readonly counts = new Map<string, number>();

  count(fault: string) {
    this.counts.set(fault, (this.counts.get(fault) ?? 0) + 1);
  }

  register(registry: Registry) {
    const counter = {
      name: "http_errors_total",
      help: "Error answers by kind: dependency (database_unavailable, insufficient_storage, ...) or bug (500)",
      type: "counter",
      aggregator: "sum",
      get: async () => ({
        ...counter,
        values: [...this.counts].map(([code, value]) => ({
          value,
          labels: { kind: code === "bug" ? "bug" : "dependency", code: code === "bug" ? "internal_error" : code },
        })),
      }),
      reset: () => this.counts.clear(),
    };
    registry.registerMetric(counter as never);
  }
}

export interface Metrics {
  requests: RequestSeries;
  errors: ErrorCounts;
  /** The Prometheus exposition of every metric, and its content type. */
  render(): Promise<{ contentType: string; body: string }>;
}

/**
 * prom-client is loaded, and its registry built, on the first scrape rather than at boot: importing it took
 * 35-45 ms of a 250 ms cold start budget (`bun run bench`), and nothing on the request path needs it.
 * Process metrics (GC, event-loop lag) are therefore collected from the first scrape on.
 */
export function createMetrics(db: Pick<Database, "poolStats">, mediaDir?: string): Metrics {
  const requests = new RequestSeries();
  const errors = new ErrorCounts();
  let registry: Promise<Registry> | undefined;
  return {
    requests,
    errors,
    async render() {
      registry ??= buildRegistry(db, requests, errors, mediaDir);
      const built = await registry;
      return { contentType: built.contentType, body: await built.metrics() };
    },
  };
}

async function buildRegistry(
  db: Pick<Database, "poolStats">,
  requests: RequestSeries,
  errors: ErrorCounts,
  mediaDir: string | undefined,
): Promise<Registry> {
  const { collectDefaultMetrics, Gauge, Registry } = await import("prom-client");
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  requests.register(registry);
  errors.register(registry);
  new Gauge({
    name: "http_requests_in_flight",
    help: "Requests being handled",
    registers: [registry],
    collect() {
      this.set(requests.inFlight);
    },
  });
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
  if (mediaDir !== undefined) {
    new Gauge({
      name: "media_volume_bytes",
      help: "The media volume's size and the bytes still free to write (statfs f_bavail)",
      labelNames: ["kind"],
      registers: [registry],
      async collect() {
        const space = await volumeSpace(mediaDir);
        if (space === undefined) return;
        this.set({ kind: "free" }, space.freeBytes);
        this.set({ kind: "size" }, space.totalBytes);
      },
    });
  }
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
  return registry;
}

/**
 * Counting starts in `plugin`'s onRequest and ends in `finish`, which request-context runs from its access-log
 * hook. Register the plugin after CORS: a preflight answered in CORS's onRequest never reaches it, and Elysia
 * finishes nothing for it (no mapResponse), so counting it would leave the in-flight gauge permanently raised.
 */
export function requestMetrics(metrics: Metrics) {
  const series = metrics.requests;
  const errors = metrics.errors;
  const plugin = new Elysia({ name: "request-metrics" }).onRequest(function countRequest({ request }) {
    requestStateOf(request).counted = true;
    series.inFlight += 1;
  });
  const finish: RequestFinisher = (record, state, elapsedMs) => {
    if (!state.counted) return;
    state.counted = false;
    series.inFlight -= 1;
    series.observe(record.method, record.route, record.status, elapsedMs / 1000);
    if (record.fault !== undefined) errors.count(record.fault);
  };
  return { plugin, finish };
}
