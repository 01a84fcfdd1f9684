/**
 * `bun run bench`: Flightdeck beside its ceiling (bare Elysia on the same Bun, bench/elysia-health.ts) and an
 * Express-on-Node reference, in the same run, on /health/live and /health (SQLite), with wrk (2 threads, 64
 * connections, BENCH_DURATION_S, default 10 s, split over BENCH_ROUNDS interleaved rounds, default 3). Then the cold start to the first /health 200 on SQLite, then
 * the other benches that exist (API on PostgreSQL, daemonless image build).
 *
 * Flightdeck runs as a preview machine does (the only environment that serves on SQLite with every production
 * middleware): request id, access log written, security headers with HSTS, CORS for listed origins, rate
 * limit (the health paths are exempt by design), metrics. Targets: /health/live >= 75% of bare Elysia and
 * >= 2x Express; cold start < 250 ms.
 * @module
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  benchRounds,
  flyVmEnv,
  freePort,
  peakRssMb,
  printTable,
  requireTool,
  type Row,
  runInterleaved,
  runWrk,
  startProcess,
  verdict,
} from "./wrk.ts";

requireTool("wrk", "apt-get install -y wrk");
const durationS = Number(process.env.BENCH_DURATION_S ?? 10);
const coldStarts = Number(process.env.BENCH_COLD_STARTS ?? 5);
const dir = mkdtempSync(join(tmpdir(), "flightdeck-bench-"));
const vm = await flyVmEnv();

/** Environment of a Flightdeck server on SQLite with every production middleware on (preview settings). */
function previewEnv(port: number, dbDir: string): Record<string, string> {
  return {
    APP_ENV: "preview",
    HOST: "127.0.0.1",
    PORT: String(port),
    DATABASE_URL: `sqlite:${dbDir}/bench.db`,
    MEDIA_DIR: `${dbDir}/media`,
    SECRET_KEY: "bench-secret-key-bench-secret-key-0123456789",
    ALLOWED_ORIGINS: "https://app.example.com",
    // Access logs go to stdout, which the bench discards; formatting and writing them is still measured.
    LOG_LEVEL: "info",
    RATE_LIMIT_PER_MINUTE: "1000000",
    // Heap sized as on the Fly VM (bench/wrk.ts flyVmEnv), like the ceiling below.
    ...vm,
  };
}

const [fdPort, ceilPort, exPort, floorPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
const flightdeck = await startProcess(
  ["bun", "--smol", "src/server.ts"],
  previewEnv(fdPort, dir),
  `http://127.0.0.1:${fdPort}/health`,
);
const ceiling = await startProcess(
  ["bun", "--smol", "bench/elysia-health.ts"],
  { ...vm, PORT: String(ceilPort) },
  `http://127.0.0.1:${ceilPort}/health/live`,
);
const reference = await startProcess(
  ["node", "bench/express-health.mjs"],
  { PORT: String(exPort) },
  `http://127.0.0.1:${exPort}/health`,
);
const floor = await startProcess(
  ["bun", "--smol", "bench/bun-features-health.ts"],
  { ...vm, PORT: String(floorPort) },
  `http://127.0.0.1:${floorPort}/health/live`,
);

try {
  // Scraped once, as Fly's metrics scraper would: prom-client loads on the first scrape, and its memory counts.
  if (!(await fetch(`http://127.0.0.1:${fdPort}/metrics`)).ok) throw new Error("flightdeck /metrics did not answer");
  // Each route's duration is split over interleaved rounds (bench/wrk.ts runInterleaved).
  const roundS = Math.max(2, Math.round(durationS / benchRounds()));
  const wrkOn = (port: number, pid: number, route: string) => () =>
    runWrk(`http://127.0.0.1:${port}${route}`, { durationS: roundS, pid });
  const peers = (route: string) => ({
    flightdeck: wrkOn(fdPort, flightdeck.pid, route),
    ceiling: wrkOn(ceilPort, ceiling.pid, route),
    reference: wrkOn(exPort, reference.pid, route),
  });
  // The feature floor answers /health/live only; it runs in the same rounds as the others.
  const { floor: floorLive, ...live } = await runInterleaved({
    ...peers("/health/live"),
    floor: wrkOn(floorPort, floor.pid, "/health/live"),
  });
  const ready = await runInterleaved(peers("/health"));
  const rows: Row[] = [
    { name: "GET /health/live", ...live },
    { name: "GET /health", ...ready },
  ];
  printTable("health: Flightdeck (Bun + Elysia, every middleware) vs bare Elysia (ceiling) vs Express (Node)", rows, {
    flightdeck: await peakRssMb(flightdeck.pid),
    ceiling: await peakRssMb(ceiling.pid),
    reference: await peakRssMb(reference.pid),
  });
  console.log("(/health on the ceiling answers without a database: it is a floor for routing, not a peer)");
  console.log(verdict("/health/live, % of bare Elysia", (100 * live.flightdeck.rps) / live.ceiling.rps, 75, "%"));
  // Not a target (the are in req/s): the same comparison by CPU time, steadier on a loaded machine.
  console.log(
    `/health/live by CPU per request: bare Elysia's is ${((100 * live.ceiling.cpuUsPerRequest) / live.flightdeck.cpuUsPerRequest).toFixed(0)}% of Flightdeck's`,
  );
  console.log(verdict("/health/live vs Express", live.flightdeck.rps / live.reference.rps, 2, "x"));
  const pct = (a: number, b: number) => `${((100 * a) / b).toFixed(0)}%`;
  console.log(
    `feature floor (bench/bun-features-health.ts: raw Bun doing only the request id, the same headers and the access-log line): ` +
      `${floorLive.rps.toFixed(0)} req/s = ${pct(floorLive.rps, live.ceiling.rps)} of bare Elysia (user CPU ${floorLive.userUsPerRequest.toFixed(1)} ` +
      `vs ${live.ceiling.userUsPerRequest.toFixed(1)} us/req); Flightdeck = ${pct(live.flightdeck.rps, floorLive.rps)} of the floor`,
  );
} finally {
  for (const proc of [flightdeck, ceiling, reference, floor]) proc.kill();
  await Promise.all([flightdeck.exited, ceiling.exited, reference.exited, floor.exited]);
}

// Cold start: spawn to the first /health 200, on a fresh SQLite database (migrations included), as a new
// preview machine boots.
const starts: number[] = [];
for (let i = 0; i < coldStarts; i++) {
  const runDir = join(dir, `cold-${i}`);
  const port = await freePort();
  const began = performance.now();
  const proc = Bun.spawn(["bun", "--smol", "src/server.ts"], {
    env: { ...process.env, ...previewEnv(port, runDir) },
    stdout: "ignore",
    stderr: "inherit",
  });
  try {
    for (;;) {
      if (performance.now() - began > 10_000) throw new Error("cold start: no /health 200 within 10 s");
      const ok = await fetch(`http://127.0.0.1:${port}/health`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) break;
      await Bun.sleep(2);
    }
    starts.push(performance.now() - began);
  } finally {
    proc.kill();
    await proc.exited;
  }
}
starts.sort((a, b) => a - b);
console.log(`\n## cold start to the first /health 200 (SQLite, fresh database, ${coldStarts} runs)`);
console.log(
  `min ${starts[0]!.toFixed(0)} ms, median ${starts[Math.floor(starts.length / 2)]!.toFixed(0)} ms, max ${starts.at(-1)!.toFixed(0)} ms`,
);
console.log(verdict("cold start (median)", starts[Math.floor(starts.length / 2)]!, 250, " ms", true));
rmSync(dir, { recursive: true, force: true });

// The other benches, each comparing against its own peers in the same run.
for (const part of ["bench/api.ts", "bench/image.ts"]) {
  if (process.env.BENCH_ONLY_HEALTH || !(await Bun.file(part).exists())) continue;
  console.log(`\n# ${part}`);
  const code = await Bun.spawn(["bun", part], { stdout: "inherit", stderr: "inherit" }).exited;
  if (code !== 0) console.error(`${part} exited ${code}`);
}
