/**
 * `bun run bench:api` (also run by `bun run bench`): Flightdeck beside its ceiling (bench/elysia-api.ts: bare
 * Elysia, the same token check, one prepared query, the same JSON; for files, the same durable upload steps and
 * the same Bun.file download, nothing else) and an Express-on-Node reference
 * (bench/express-api.mjs), in the same run, on the same PostgreSQL database, with wrk (2 threads, 64
 * connections, BENCH_DURATION_S, default 10 s each): the authenticated `GET /v1/projects/:id`, then PUT and GET
 * of a 64 KiB file. Flightdeck runs with APP_ENV=production (schema gate, HSTS, listed CORS origins, access log
 * written, rate limit on). Targets: the read >= 75% of the ceiling and >= 3x Express; PUT >= 2x, GET >= 3x
 * Express; Flightdeck peak RSS <= 120 MB.
 * @module
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createScratchDatabase } from "../test/support/postgres.ts";
import { createBenchAccount } from "./account.ts";
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
const FILE_BYTES = 64 * 1024;
const SECRET_KEY = "bench-secret-key-bench-secret-key-0123456789";
const dir = mkdtempSync(join(tmpdir(), "flightdeck-bench-api-"));
const scratch = await createScratchDatabase("bench_api");
const [fdPort, ceilPort, exPort] = [await freePort(), await freePort(), await freePort()];
const common = { DATABASE_URL: scratch.url, SECRET_KEY, DB_POOL_SIZE: "10" };
// Both Bun peers size their heaps as on the production VM (see flyVmEnv); Node's Express is left as it comes.
const vm = await flyVmEnv();

// Production migrates in the release command, not at boot.
const migrated = await Bun.spawn(["bun", "src/db/migrate.ts"], {
  env: { ...process.env, ...common, APP_ENV: "production" },
  stdout: "ignore",
  stderr: "inherit",
}).exited;
if (migrated !== 0) throw new Error(`migrations failed (exit ${migrated})`);
const flightdeck = await startProcess(
  ["bun", "--smol", "src/server.ts"],
  {
    ...common,
    ...vm,
    APP_ENV: "production",
    HOST: "127.0.0.1",
    PORT: String(fdPort),
    MEDIA_DIR: `${dir}/fd-media`,
    // A bench directory, not a volume (src/media/mount.ts).
    MEDIA_REQUIRE_MOUNT: "false",
    ALLOWED_ORIGINS: "https://app.example.com",
    TRUST_PROXY: "false",
    // Access logs are written (to a discarded stdout) so their cost is measured, as in production.
    LOG_LEVEL: "info",
    RATE_LIMIT_PER_MINUTE: "1000000",
  },
  `http://127.0.0.1:${fdPort}/health`,
);
const ceiling = await startProcess(
  ["bun", "--smol", "bench/elysia-api.ts"],
  { ...common, ...vm, PORT: String(ceilPort), MEDIA_DIR: `${dir}/ceil-media` },
  `http://127.0.0.1:${ceilPort}/health`,
);
const reference = await startProcess(
  ["node", "bench/express-api.mjs"],
  { ...common, PORT: String(exPort), MEDIA_DIR: `${dir}/ex-media` },
  `http://127.0.0.1:${exPort}/health`,
);

try {
  const fd = `http://127.0.0.1:${fdPort}`;
  const ex = `http://127.0.0.1:${exPort}`;
  const { token, projectId, headers: auth } = await createBenchAccount(fd, "bench@example.com");
  const content = new Uint8Array(FILE_BYTES).fill(120);

  const ceil = `http://127.0.0.1:${ceilPort}`;
  // Scraped once, as Fly's metrics scraper would: prom-client loads on the first scrape, and its memory counts.
  if (!(await fetch(`${fd}/metrics`)).ok) throw new Error("flightdeck /metrics did not answer");

  // All three servers must answer the same thing before they are compared.
  const answers = await Promise.all(
    [fd, ceil, ex].map((base) => fetch(`${base}/v1/projects/${projectId}`, { headers: auth }).then((r) => r.text())),
  );
  if (new Set(answers).size !== 1) throw new Error(`servers disagree: ${answers.join(" vs ")}`);
  for (const [base, name] of [
    [fd, "fd"],
    [ceil, "ceil"],
    [ex, "ex"],
  ] as const) {
    const put = await fetch(`${base}/v1/projects/${projectId}/files/bench/get-${name}.bin`, {
      method: "PUT",
      body: content,
      headers: auth,
    });
    if (put.status !== 201) throw new Error(`${name} upload: ${put.status} ${await put.text()}`);
    const got = await fetch(`${base}/v1/projects/${projectId}/files/bench/get-${name}.bin`, { headers: auth });
    if ((await got.arrayBuffer()).byteLength !== FILE_BYTES) throw new Error(`${name} download size mismatch`);
  }

  const putScript = (name: string) => {
    const path = join(dir, `put-${name}.lua`);
    // 32 rotating paths per thread: uploads replace files (as real clients do) without filling the disk.
    writeFileSync(
      path,
      `
local body = string.rep("x", ${FILE_BYTES})
local counter = 0
request = function()
  counter = counter + 1
  return wrk.format("PUT", "/v1/projects/${projectId}/files/bench/put-${name}-" .. (counter % 32) .. ".bin",
    { ["Authorization"] = "Bearer ${token}", ["Content-Type"] = "application/octet-stream" }, body)
end
`,
    );
    return path;
  };

  const rows: Row[] = [];
  const peaks: string[] = [];
  type Run = (base: string, who: "fd" | "ceil" | "ex", pid: number, durationS: number) => ReturnType<typeof runWrk>;
  // Each comparison's duration is split over interleaved rounds (bench/wrk.ts runInterleaved).
  const roundS = Math.max(2, Math.round(durationS / benchRounds()));
  const compare = async (name: string, run: Run) => {
    const got = await runInterleaved({
      flightdeck: () => run(fd, "fd", flightdeck.pid, roundS),
      reference: () => run(ex, "ex", reference.pid, roundS),
      // Each peer writes its own paths and rows: the ceiling's rows carry no volume, which Flightdeck would move.
      ceiling: () => run(ceil, "ceil", ceiling.pid, roundS),
    });
    const row = { name, ...got };
    rows.push(row);
    peaks.push(`${name} ${await peakRssMb(flightdeck.pid)} MB`);
    return row;
  };
  const projectRead: Run = (base, _who, pid, durationS) =>
    runWrk(`${base}/v1/projects/${projectId}`, { durationS, headers: auth, pid });
  const read = await compare("GET /v1/projects/:id (auth, PostgreSQL)", projectRead);
  const put = await compare("PUT 64 KiB file", (base, who, pid, durationS) =>
    runWrk(`${base}/`, { durationS, script: putScript(who), pid }),
  );
  const get = await compare("GET 64 KiB file", (base, who, pid, durationS) =>
    runWrk(`${base}/v1/projects/${projectId}/files/bench/get-${who}.bin`, { durationS, headers: auth, pid }),
  );

  const rss = {
    flightdeck: await peakRssMb(flightdeck.pid),
    ceiling: await peakRssMb(ceiling.pid),
    reference: await peakRssMb(reference.pid),
  };
  printTable(
    "API on PostgreSQL: Flightdeck (production settings) vs bare Elysia (ceiling) vs Express (Node), wrk -t2 -c64",
    rows,
    rss,
  );
  console.log(`flightdeck peak RSS after each row: ${peaks.join(", ")}`);
  for (const row of rows) {
    if (row.flightdeck.errors || row.reference.errors || row.ceiling?.errors) {
      console.log(
        `note: ${row.name}: non-2xx/timeouts flightdeck ${row.flightdeck.errors}, ceiling ${row.ceiling?.errors ?? "-"}, express ${row.reference.errors}`,
      );
    }
  }
  console.log(
    verdict(
      "authenticated read, % of the minimal Elysia handler",
      (100 * read.flightdeck.rps) / read.ceiling.rps,
      75,
      "%",
    ),
  );
  console.log(verdict("authenticated read vs Express", read.flightdeck.rps / read.reference.rps, 3, "x"));
  // Not targets: how much of what this disk and this Bun allow any service reaches (see bench/elysia-api.ts).
  console.log(
    `PUT 64 KiB: ${((100 * put.flightdeck.rps) / put.ceiling.rps).toFixed(0)}% of the minimal durable upload; GET 64 KiB: ${((100 * get.flightdeck.rps) / get.ceiling.rps).toFixed(0)}% of the minimal download`,
  );
  console.log(verdict("PUT 64 KiB vs Express", put.flightdeck.rps / put.reference.rps, 2, "x"));
  console.log(verdict("GET 64 KiB vs Express", get.flightdeck.rps / get.reference.rps, 3, "x"));
  console.log(verdict("Flightdeck peak RSS", rss.flightdeck, 120, " MB", true));
} finally {
  for (const proc of [flightdeck, ceiling, reference]) proc.kill();
  await Promise.all([flightdeck.exited, ceiling.exited, reference.exited]);
  await scratch.drop();
  rmSync(dir, { recursive: true, force: true });
}
