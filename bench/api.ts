/**
 * `bun run bench:api` (also run by `bun run bench`): Flightdeck against an Express-on-Node reference
 * (bench/express-api.mjs) in the same run, on the same PostgreSQL database, with wrk (2 threads, 64
 * connections, 10 s each): the authenticated `GET /v1/projects/:id`, then PUT and GET of a 64 KiB file.
 * Floors: Flightdeck >= 2x Express on the authenticated PostgreSQL read; Flightdeck peak RSS <= 150 MB
 * (it must fit a 256 MB preview machine).
 * @module
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createScratchDatabase } from "../test/support/postgres.ts";
import { freePort, peakRssMb, printTable, requireTool, type Row, runWrk, startProcess } from "./wrk.ts";

requireTool("wrk", "apt-get install -y wrk");
const durationS = Number(process.env.BENCH_DURATION_S ?? 10);
const FILE_BYTES = 64 * 1024;
const SECRET_KEY = "bench-secret-key-bench-secret-key-0123456789";
const dir = mkdtempSync(join(tmpdir(), "flightdeck-bench-api-"));
const scratch = await createScratchDatabase("bench_api");
const [fdPort, exPort] = [await freePort(), await freePort()];
const common = { DATABASE_URL: scratch.url, SECRET_KEY, DB_POOL_SIZE: "10" };

const flightdeck = await startProcess(["bun", "--smol", "src/server.ts"], {
  ...common, APP_ENV: "development", PORT: String(fdPort), MEDIA_DIR: `${dir}/fd-media`,
  // Access logs are written (to a discarded stdout) so their cost is measured, as in production.
  LOG_LEVEL: "info", RATE_LIMIT_PER_MINUTE: "1000000",
}, `http://127.0.0.1:${fdPort}/health`);
// Flightdeck migrated the scratch database at boot; the reference uses the same tables.
const reference = await startProcess(["node", "bench/express-api.mjs"], { ...common, PORT: String(exPort), MEDIA_DIR: `${dir}/ex-media` },
  `http://127.0.0.1:${exPort}/health`);

try {
  const fd = `http://127.0.0.1:${fdPort}`;
  const ex = `http://127.0.0.1:${exPort}`;
  const post = async (path: string, body: unknown, token?: string) => {
    const res = await fetch(`${fd}${path}`, {
      method: "POST", body: JSON.stringify(body),
      headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    });
    if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
    return res.json() as Promise<Record<string, string>>;
  };
  await post("/v1/auth/register", { email: "bench@example.com", password: "bench password 123" });
  const { access_token: token } = await post("/v1/auth/login", { email: "bench@example.com", password: "bench password 123" });
  const { id: projectId } = await post("/v1/projects", { name: "bench", description: "wrk target" }, token);
  const auth = { authorization: `Bearer ${token}` };
  const content = new Uint8Array(FILE_BYTES).fill(120);

  // Both servers must answer the same thing before they are compared.
  const [fdProject, exProject] = await Promise.all([fd, ex].map((base) => fetch(`${base}/v1/projects/${projectId}`, { headers: auth }).then((r) => r.json())));
  if (JSON.stringify(fdProject) !== JSON.stringify(exProject)) throw new Error(`servers disagree: ${JSON.stringify(fdProject)} vs ${JSON.stringify(exProject)}`);
  for (const [base, name] of [[fd, "fd"], [ex, "ex"]] as const) {
    const put = await fetch(`${base}/v1/projects/${projectId}/files/bench/get-${name}.bin`, { method: "PUT", body: content, headers: auth });
    if (put.status !== 201) throw new Error(`${name} upload: ${put.status} ${await put.text()}`);
    const got = await fetch(`${base}/v1/projects/${projectId}/files/bench/get-${name}.bin`, { headers: auth });
    if ((await got.arrayBuffer()).byteLength !== FILE_BYTES) throw new Error(`${name} download size mismatch`);
  }

  const putScript = (name: string) => {
    const path = join(dir, `put-${name}.lua`);
    // 32 rotating paths per thread: uploads replace files (as real clients do) without filling the disk.
    writeFileSync(path, `
local body = string.rep("x", ${FILE_BYTES})
local counter = 0
request = function()
  counter = counter + 1
  return wrk.format("PUT", "/v1/projects/${projectId}/files/bench/put-${name}-" .. (counter % 32) .. ".bin",
    { ["Authorization"] = "Bearer ${token}", ["Content-Type"] = "application/octet-stream" }, body)
end
`);
    return path;
  };

  const rows: Row[] = [];
  const pair = async (name: string, run: (base: string, who: "fd" | "ex") => ReturnType<typeof runWrk>) => {
    const row = { name, flightdeck: await run(fd, "fd"), reference: await run(ex, "ex") };
    rows.push(row);
    return row;
  };
  const read = await pair("GET /v1/projects/:id (auth, PostgreSQL)", (base) => runWrk(`${base}/v1/projects/${projectId}`, { durationS, headers: auth }));
  await pair("PUT 64 KiB file", (base, who) => runWrk(`${base}/`, { durationS, script: putScript(who) }));
  await pair("GET 64 KiB file", (base, who) => runWrk(`${base}/v1/projects/${projectId}/files/bench/get-${who}.bin`, { durationS, headers: auth }));

  const rss = { flightdeck: await peakRssMb(flightdeck.pid), reference: await peakRssMb(reference.pid) };
  printTable("API on PostgreSQL: Flightdeck (Bun + Elysia) vs Express (Node), wrk -t2 -c64", rows, rss);
  for (const row of rows) {
    if (row.flightdeck.errors || row.reference.errors) console.log(`note: ${row.name}: non-2xx/timeouts flightdeck ${row.flightdeck.errors}, express ${row.reference.errors}`);
  }
  const ratio = read.flightdeck.rps / read.reference.rps;
  console.log(`floor: authenticated PostgreSQL read >= 2x Express -> ${ratio.toFixed(2)}x ${ratio >= 2 ? "PASS" : "FAIL"}`);
  console.log(`floor: Flightdeck peak RSS <= 150 MB -> ${rss.flightdeck} MB ${rss.flightdeck <= 150 ? "PASS" : "FAIL"}`);
} finally {
  flightdeck.kill();
  reference.kill();
  await Promise.all([flightdeck.exited, reference.exited]);
  await scratch.drop();
  rmSync(dir, { recursive: true, force: true });
}
