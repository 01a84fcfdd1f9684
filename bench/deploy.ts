// bun run bench:deploy — the deploy library against the fake Fly API on Fly's clock (test/fakes/fly/clock.ts): rate
// limits, list lag, 404 for a just-created machine, lasting transient states, all at 1/SCALE of Fly's pace so
// the bench is quick. The client's own limiter runs on the same clock (FLIGHTDECK_FLY_CLOCK_SCALE, rate-limit.ts).
//
// 1. A rolling image update of a 5-machine fleet with the fake's rate limits ON and OFF, interleaved over ROUNDS
//    (on/off, then off/on, ...) so drift of a shared machine falls on both: rollout time of each, 429s the fake
//    sent, and the on/off ratio. Targets (issue 20): 0 429s, and limits on within 25% of limits off.
// 2. The standby check's added time: a fleet of 3 started + 2 stopped machines updated with the check on and
//    off (--skip-standby-check), interleaved the same way.
// Times are real ms and, in brackets, Fly seconds (real / SCALE). Exit 1 when a target is missed.
const SCALE = Number(process.env.BENCH_CLOCK_SCALE ?? "0.25");
process.env.FLIGHTDECK_FLY_CLOCK_SCALE = String(SCALE);

const { createFlyClient } = await import("../lib/fly/client.ts");
const { runDeploy } = await import("../deploy/apply/deploy.ts");
const { parseDeployConfig } = await import("../deploy/config/flytoml.ts");
const { createOutput } = await import("../deploy/output.ts");
const { startFakeFly } = await import("../test/fakes/fly-machines.ts");

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? "3");
/** A Machines API round trip, in Fly ms (scaled like every other duration). */
const LATENCY_FLY_MS = 50;

const parsed = parseDeployConfig(await Bun.file(new URL("../fly.toml", import.meta.url)).text(), { path: "fly.toml" });
if (!parsed.ok) throw new Error("fly.toml does not parse");
const config = parsed.config;
const quiet = createOutput({ env: {}, stdout: () => {}, stderr: () => {} }, { json: false });

type Fake = ReturnType<typeof startFakeFly>;
interface Fleet {
  name: string;
  fly: Fake;
  client: ReturnType<typeof createFlyClient>;
  release: number;
}

async function fleet(name: string, rateLimits: boolean): Promise<Fleet> {
  const fly = startFakeFly({ clock: { scale: SCALE, rateLimits }, latencyMs: LATENCY_FLY_MS * SCALE });
  const client = createFlyClient({ baseUrl: fly.url, token: fly.token });
  await client.createApp({ name: config.app, org_slug: "personal" });
  await client.setSecrets(config.app, { DATABASE_URL: "postgres://u:p@db:5432/app", SECRET_KEY: "s".repeat(40) });
  const f = { name, fly, client, release: 1 };
  await deploy(f);
  return f;
}

interface Run {
  wallMs: number;
  rolloutMs: number;
  rateLimited: number;
  calls: number;
}

/** One deploy of a new image; rollout = first machine update call to the last lease release (as before). */
async function deploy(f: Fleet, extra: { skipStandbyCheck?: boolean } = {}): Promise<Run> {
  const image = `registry.fly.io/flightdeck:bench-${f.release++}`;
  const from = f.fly.calls.length;
  const limitedBefore = f.fly.rateLimited;
  const started = performance.now();
  await runDeploy({ client: f.client, config, image, output: quiet, env: {}, ...extra });
  const wallMs = performance.now() - started;
  const calls = f.fly.calls.slice(from);
  const firstUpdate = calls.find((c) => c.method === "POST" && /\/machines\/[0-9a-f]{14}$/.test(c.path));
  const lastRelease = calls.findLast((c) => c.method === "DELETE" && c.path.endsWith("/lease"));
  const rolloutMs = firstUpdate && lastRelease ? lastRelease.at - firstUpdate.at : Number.NaN;
  return { wallMs, rolloutMs, rateLimited: f.fly.rateLimited - limitedBefore, calls: calls.length };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};
const fmt = (ms: number) => `${(ms / 1000).toFixed(2)} s [${(ms / SCALE / 1000).toFixed(1)} Fly s]`;

/** Runs a and b ROUNDS times each, alternating which goes first. */
async function interleaved(a: () => Promise<Run>, b: () => Promise<Run>): Promise<{ a: Run[]; b: Run[] }> {
  const out = { a: [] as Run[], b: [] as Run[] };
  for (let round = 0; round < ROUNDS; round++) {
    if (round % 2 === 0) {
      out.a.push(await a());
      out.b.push(await b());
    } else {
      out.b.push(await b());
      out.a.push(await a());
    }
  }
  return out;
}

console.log(
  `deploy bench: fake Fly API in clock mode, scale ${SCALE} (1 Fly s = ${1000 * SCALE} ms), ${LATENCY_FLY_MS} Fly ms per call, ${ROUNDS} rounds, interleaved`,
);

// 1. Rolling update, rate limits on vs off.
const on = await fleet("limits on", true);
const off = await fleet("limits off", false);
const setupLimited = on.fly.rateLimited;
const rolling = await interleaved(
  () => deploy(on),
  () => deploy(off),
);
for (const [label, runs] of [
  ["limits on ", rolling.a],
  ["limits off", rolling.b],
] as const) {
  for (const [i, r] of runs.entries())
    console.log(
      `rolling update, 5 machines, ${label} round ${i + 1}: rollout ${fmt(r.rolloutMs)}, deploy ${fmt(r.wallMs)}, ${r.calls} calls, ${r.rateLimited} x 429`,
    );
}
const onMs = median(rolling.a.map((r) => r.rolloutMs));
const offMs = median(rolling.b.map((r) => r.rolloutMs));
const ratio = onMs / offMs;
const limited = rolling.a.reduce((n, r) => n + r.rateLimited, 0) + rolling.b.reduce((n, r) => n + r.rateLimited, 0);
console.log(
  `rolling update median rollout: limits on ${fmt(onMs)}, limits off ${fmt(offMs)}, ratio on/off ${ratio.toFixed(3)}; 429s met by the client in the rounds: ${limited} (first deploys: ${setupLimited})`,
);
await on.fly.close();
await off.fly.close();

// 2. Standby check on vs off, on a fleet with 2 stopped machines (limits on).
const standby = await fleet("standbys", true);
const machines = (await standby.client.listMachines(config.app)).filter(
  (m) => m.config?.metadata?.fly_process_group === "app",
);
for (const m of machines.slice(3)) {
  await standby.client.stopMachine(config.app, m.id!);
  await standby.client.waitForMachineState(config.app, m.id!, { state: "stopped", timeoutMs: 30_000 });
}
const checked = await interleaved(
  () => deploy(standby),
  () => deploy(standby, { skipStandbyCheck: true }),
);
for (const [label, runs] of [
  ["check on ", checked.a],
  ["check off", checked.b],
] as const) {
  for (const [i, r] of runs.entries())
    console.log(
      `3 started + 2 stopped, standby ${label} round ${i + 1}: deploy ${fmt(r.wallMs)}, rollout ${fmt(r.rolloutMs)}, ${r.calls} calls, ${r.rateLimited} x 429`,
    );
}
const withCheck = median(checked.a.map((r) => r.wallMs));
const without = median(checked.b.map((r) => r.wallMs));
const standbyLimited = [...checked.a, ...checked.b].reduce((n, r) => n + r.rateLimited, 0);
console.log(
  `standby check (2 standbys, 3 at a time) median deploy: on ${fmt(withCheck)}, off ${fmt(without)}, added ${fmt(withCheck - without)}; 429s: ${standbyLimited}`,
);
const stillStopped = (await standby.client.listMachines(config.app)).filter(
  (m) => m.config?.metadata?.fly_process_group === "app" && m.state === "stopped",
).length;
await standby.fly.close();

const failures: string[] = [];
if (limited + standbyLimited > 0) failures.push(`${limited + standbyLimited} x 429 met (target 0)`);
if (!(ratio <= 1.25)) failures.push(`rolling update with limits on is ${ratio.toFixed(3)}x without (target <= 1.25)`);
if (stillStopped !== 2) failures.push(`${stillStopped} standby machine(s) stopped after the runs, want 2`);
if (failures.length > 0) {
  console.log(`TARGETS MISSED: ${failures.join("; ")}`);
  process.exit(1);
}
console.log("targets met: 0 x 429; rolling update with limits on within 1.25x of limits off; standbys back to stopped");
