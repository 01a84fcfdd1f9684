// bun run bench:deploy — the deploy library against the fake Fly API with 50 ms per call and 2 s machine
// boot. Prints wall time and call counts for a first deploy, an image update (5 machines, rolling) and a
// no-op, and checks the floors: no-op = 0 mutating calls in < 1 s; the rolling update within 1.25x of the
// lower bound its batches allow (spearhead + ceil(4 / batch) rounds of boot + checks).
import { createFlyClient } from "../lib/fly/client.ts";
import { runDeploy } from "../deploy/apply/deploy.ts";
import { parseDeployConfig } from "../deploy/config/flytoml.ts";
import { createOutput } from "../deploy/output.ts";
import { batchSize } from "../deploy/apply/rollout.ts";
import { startFakeFly } from "../test/fakes/fly-machines.ts";

const LATENCY_MS = 50;
const BOOT_MS = 2000;
const CHECKS_MS = 20;
const RUN_MS = 20;

const fly = startFakeFly({ latencyMs: LATENCY_MS, bootMs: BOOT_MS, checksPassMs: CHECKS_MS, runMs: RUN_MS });
const client = createFlyClient({ baseUrl: fly.url, token: fly.token });
const parsed = parseDeployConfig(await Bun.file(new URL("../fly.toml", import.meta.url)).text(), { path: "fly.toml" });
if (!parsed.ok) throw new Error("fly.toml does not parse");
const config = parsed.config;
const quiet = createOutput({ env: {}, stdout: () => {}, stderr: () => {} }, { json: false });

await client.createApp({ name: config.app, org_slug: "personal" });
await client.setSecrets(config.app, { DATABASE_URL: "postgres://u:p@db:5432/app", SECRET_KEY: "s".repeat(40) });

interface Row {
  scenario: string;
  wallMs: number;
  calls: number;
  mutating: number;
  note: string;
}
const rows: Row[] = [];

async function measure(scenario: string, image: string): Promise<{ wallMs: number; from: number }> {
  const from = fly.calls.length;
  const started = performance.now();
  await runDeploy({ client, config, image, output: quiet, env: {} });
  const wallMs = performance.now() - started;
  const calls = fly.calls.slice(from);
  rows.push({ scenario, wallMs, calls: calls.length, mutating: calls.filter((c) => c.mutating).length, note: "" });
  return { wallMs, from };
}

await measure("first deploy (5 machines + volumes + IPs + release)", "registry.fly.io/flightdeck:deployment-v1");
const update = await measure("image update, 5 machines, rolling", "registry.fly.io/flightdeck:deployment-v2");
const noop = await measure("no-op re-deploy", "registry.fly.io/flightdeck:deployment-v2");
await fly.close();

// The rollout phase of the update: from the first machine update call to the last lease release (which now
// also covers the fleet re-read that verifies it and the release history write; the fleet lock itself is
// taken before the release command, so its acquisition is in the whole-deploy figure, not in this one).
const updateCalls = fly.calls.slice(update.from, noop.from);
const firstUpdate = updateCalls.find((c) => c.method === "POST" && /\/machines\/[^/]+$/.test(c.path));
const lastRelease = [...updateCalls].reverse().find((c) => c.method === "DELETE" && c.path.endsWith("/lease"));
const rolloutMs = firstUpdate && lastRelease ? lastRelease.at - firstUpdate.at : Number.NaN;
const batch = batchSize(5, config.deploy.maxUnavailable);
const rounds = 1 + Math.ceil(4 / batch);
const boundMs = rounds * (BOOT_MS + CHECKS_MS);
const releaseMs = BOOT_MS + RUN_MS;

const updateRow = rows[1]!;
updateRow.note = `rollout ${(rolloutMs / 1000).toFixed(2)} s vs bound ${(boundMs / 1000).toFixed(2)} s (${rounds} rounds, batch ${batch}): ${(rolloutMs / boundMs).toFixed(2)}x; whole deploy incl. release command vs bound+release ${((boundMs + releaseMs) / 1000).toFixed(2)} s: ${(updateRow.wallMs / (boundMs + releaseMs)).toFixed(2)}x`;
const noopRow = rows[2]!;
noopRow.note = `${noopRow.mutating} mutating calls`;

console.log(
  `deploy bench: fake Fly API, ${LATENCY_MS} ms per call, ${BOOT_MS} ms boot, checks pass ${CHECKS_MS} ms after start`,
);
for (const r of rows) {
  console.log(
    `${r.scenario.padEnd(52)} ${(r.wallMs / 1000).toFixed(2).padStart(6)} s  ${String(r.calls).padStart(4)} calls (${r.mutating} mutating)${r.note ? `  ${r.note}` : ""}`,
  );
}
const failures: string[] = [];
if (noopRow.mutating !== 0) failures.push(`no-op made ${noopRow.mutating} mutating calls`);
if (noopRow.wallMs >= 1000) failures.push(`no-op took ${noopRow.wallMs.toFixed(0)} ms (floor: < 1000 ms)`);
if (!(rolloutMs <= boundMs * 1.25)) failures.push(`rolling update ${rolloutMs.toFixed(0)} ms > 1.25 x ${boundMs} ms`);
if (failures.length > 0) {
  console.log(`FLOORS MISSED: ${failures.join("; ")}`);
  process.exit(1);
}
console.log("floors met: no-op 0 mutating calls < 1 s; rolling update within 1.25x of its lower bound");
