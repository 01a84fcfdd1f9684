/**
 * `bun run bench:plugins`: what each cross-cutting plugin costs a `/health/live` request, in process
 * (`app.handle`, no sockets, so the machine's other load matters less): the plugins are added one at a time
 * in src/app.ts's order and each step's CPU time per request is measured (best of BENCH_ROUNDS rounds of
 * BENCH_REQUESTS requests). The access log is formatted in full and handed to a sink that drops it.
 * The HTTP benches (`bun run bench`) give the end-to-end figures; this one says where the time goes.
 * @module
 */
import { Elysia } from "elysia";
import { loadConfig } from "../lib/config.ts";
import { createLogger } from "../lib/log.ts";
import { usualResponder } from "../src/app.ts";
import { openDatabase } from "../src/db/database.ts";
import { openGate } from "../src/db/schema-gate.ts";
import { cors } from "../src/plugins/cors.ts";
import { errorHandler } from "../src/plugins/errors.ts";
import { createMetrics, requestMetrics } from "../src/plugins/metrics.ts";
import { apiDocs } from "../src/plugins/openapi.ts";
import { rateLimit } from "../src/plugins/rate-limit.ts";
import { requestContext } from "../src/plugins/request-context.ts";
import { schemaGuard } from "../src/plugins/schema-guard.ts";
import { healthRoutes } from "../src/routes/health.ts";

const requests = Number(process.env.BENCH_REQUESTS ?? 30_000);
const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
const path = process.env.BENCH_PATH ?? "/health/live";

// Preview settings: SQLite with every production middleware (HSTS, listed CORS origins).
const loaded = loadConfig({
  APP_ENV: "preview",
  HOST: "127.0.0.1",
  DATABASE_URL: "sqlite::memory:",
  MEDIA_DIR: "/tmp/flightdeck-bench-plugins",
  SECRET_KEY: "bench-secret-key-bench-secret-key-0123456789",
  ALLOWED_ORIGINS: "https://app.example.com",
  RATE_LIMIT_PER_MINUTE: "1000000",
});
if (!loaded.ok) throw new Error(loaded.error.message);
const config = loaded.config;
const db = await openDatabase(config);
await db.migrate();
const logger = createLogger({ write: () => {}, fields: { component: "server" } });

type Step = [name: string, add: (app: Elysia) => Elysia];
const steps = (): Step[] => {
  const counted = requestMetrics(createMetrics(db));
  // As in src/app.ts: the responder puts the usual headers (security, Vary, CSP) on every answer.
  const respond = usualResponder(config);
  return [
    [
      "request id + access log + metrics finish + usual headers",
      (a) => a.use(requestContext(logger, [counted.finish], respond)) as unknown as Elysia,
    ],
    ["errors", (a) => a.use(errorHandler(config.appEnv, logger)) as unknown as Elysia],
    ["cors", (a) => a.use(cors(config.allowedOrigins, respond.headersFor)) as unknown as Elysia],
    ["metrics count", (a) => a.use(counted.plugin) as unknown as Elysia],
    ["rate limit", (a) => a.use(rateLimit(config, Date.now, () => null)) as unknown as Elysia],
    [
      "schema guard (production gate)",
      (a) => a.use(schemaGuard({ status: async () => ({ upToDate: true, pending: 0 }) })) as unknown as Elysia,
    ],
    ["openapi", (a) => a.use(apiDocs(config.appVersion)) as unknown as Elysia],
  ];
};

function build(count: number) {
  let app = new Elysia({ normalize: false });
  for (const [, add] of steps().slice(0, count)) app = add(app);
  return app.use(healthRoutes(config, { db, schema: openGate, startedAt: Date.now() }));
}

async function cpuPerRequest(app: ReturnType<typeof build>): Promise<number> {
  const url = `http://localhost${path}`;
  for (let i = 0; i < 2_000; i++) await app.handle(new Request(url));
  const before = process.cpuUsage();
  for (let i = 0; i < requests; i++) await app.handle(new Request(url));
  await new Promise((resolve) => setImmediate(resolve)); // let anything scheduled by the last request run
  const used = process.cpuUsage(before);
  return (used.user + used.system) / requests;
}

const names = ["routes only", ...steps().map(([name]) => `+ ${name}`)];
const best: number[] = names.map(() => Number.POSITIVE_INFINITY);
for (let round = 0; round < rounds; round++) {
  for (let count = 0; count < names.length; count++)
    best[count] = Math.min(best[count]!, await cpuPerRequest(build(count)));
}
console.log(`\n## plugin cost on GET ${path}, in process (best of ${rounds} x ${requests} requests)`);
console.log("| step | CPU us/request | added |\n|---|---|---|");
for (const [i, name] of names.entries())
  console.log(`| ${name} | ${best[i]!.toFixed(2)} | ${i === 0 ? "-" : (best[i]! - best[i - 1]!).toFixed(2)} |`);
await db.close();
