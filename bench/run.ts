/**
 * `bun run bench`: Flightdeck against an Express-on-Node reference in the same run, on /health/live and
 * /health (SQLite), with wrk (2 threads, 64 connections, 10 s). Then the other benches that exist
 * (API on PostgreSQL, daemonless image build). Floor: Flightdeck >= 2x Express on /health/live.
 * @module
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, peakRssMb, printTable, requireTool, type Row, runWrk, startProcess } from "./wrk.ts";

requireTool("wrk", "apt-get install -y wrk");
const durationS = Number(process.env.BENCH_DURATION_S ?? 10);
const dir = mkdtempSync(join(tmpdir(), "flightdeck-bench-"));
const [fdPort, exPort] = [await freePort(), await freePort()];

const flightdeck = await startProcess(["bun", "--smol", "src/server.ts"], {
  APP_ENV: "development", PORT: String(fdPort), DATABASE_URL: `sqlite:${dir}/bench.db`, MEDIA_DIR: `${dir}/media`,
  // Access logs go to stdout, which the bench discards; the work of formatting them is still measured.
  LOG_LEVEL: "info", RATE_LIMIT_PER_MINUTE: "1000000",
}, `http://127.0.0.1:${fdPort}/health`);
const reference = await startProcess(["node", "bench/express-health.mjs"], { PORT: String(exPort) }, `http://127.0.0.1:${exPort}/health`);

try {
  const rows: Row[] = [];
  for (const route of ["/health/live", "/health"]) {
    const fd = await runWrk(`http://127.0.0.1:${fdPort}${route}`, { durationS });
    const ex = await runWrk(`http://127.0.0.1:${exPort}${route}`, { durationS });
    rows.push({ name: `GET ${route}`, flightdeck: fd, reference: ex });
  }
  printTable("health: Flightdeck (Bun + Elysia) vs Express (Node)", rows, {
    flightdeck: await peakRssMb(flightdeck.pid), reference: await peakRssMb(reference.pid),
  });
  const live = rows[0]!;
  const ratio = live.flightdeck.rps / live.reference.rps;
  console.log(`floor: /health/live >= 2x Express -> ${ratio.toFixed(2)}x ${ratio >= 2 ? "PASS" : "FAIL"}`);
} finally {
  flightdeck.kill();
  reference.kill();
  rmSync(dir, { recursive: true, force: true });
}

// The other benches, each comparing against its own peer in the same run.
for (const part of ["bench/api.ts", "bench/image.ts"]) {
  if (process.env.BENCH_ONLY_HEALTH || !(await Bun.file(part).exists())) continue;
  console.log(`\n# ${part}`);
  const code = await Bun.spawn(["bun", part], { stdout: "inherit", stderr: "inherit" }).exited;
  if (code !== 0) console.error(`${part} exited ${code}`);
}
