/**
 * Shared bench plumbing: start a server process, drive it with wrk, read its peak RSS, print a comparison.
 * Benches compare Flightdeck with a reference in the same run and quote ratios, because these machines are
 * noisy and absolute numbers from one run mean little.
 * @module
 */
import type { Subprocess } from "bun";
import { groupConfig } from "../deploy/config/flytoml-groups.ts";
import { loadDeployConfig } from "../deploy/config/flytoml.ts";

export interface WrkResult {
  rps: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  /** Server CPU time (user + system) per request, when the server's pid was given: steadier than req/s on a shared machine. */
  cpuUsPerRequest: number;
  /**
   * The user-space part alone: steadier still. The kernel's share per request grows as throughput falls (fewer
   * requests per wakeup), so it moves with the machine's load more than with the server's own work.
   */
  userUsPerRequest: number;
}
export interface WrkOptions {
  threads?: number;
  connections?: number;
  durationS?: number;
  script?: string;
  headers?: Record<string, string>;
  /** The server process, to charge its CPU time to the requests wrk made. */
  pid?: number;
}

export function requireTool(name: string, install: string) {
  if (!Bun.which(name)) {
    console.error(`bench: '${name}' is not installed. Install it with: ${install}`);
    process.exit(2);
  }
}

export async function runWrk(url: string, opts: WrkOptions = {}): Promise<WrkResult> {
  // wrk takes whole seconds.
  const args = [
    "wrk",
    `-t${opts.threads ?? 2}`,
    `-c${opts.connections ?? 64}`,
    `-d${Math.max(1, Math.round(opts.durationS ?? 10))}s`,
    "--latency",
  ];
  for (const [k, v] of Object.entries(opts.headers ?? {})) args.push("-H", `${k}: ${v}`);
  if (opts.script) args.push("-s", opts.script);
  args.push(url);
  const cpuBefore = opts.pid === undefined ? undefined : await cpuTimes(opts.pid);
  const proc = Bun.spawn(args, { stdout: "pipe", stderr: "pipe" });
  const out = await new Response(proc.stdout).text();
  if ((await proc.exited) !== 0) throw new Error(`wrk failed: ${await new Response(proc.stderr).text()}`);
  const cpuAfter = opts.pid === undefined ? undefined : await cpuTimes(opts.pid);
  const cpu = cpuBefore && cpuAfter ? cpuAfter.user + cpuAfter.system - cpuBefore.user - cpuBefore.system : Number.NaN;
  const user = cpuBefore && cpuAfter ? cpuAfter.user - cpuBefore.user : Number.NaN;
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? Number.NaN);
  const requests = Number(/(\d+) requests in/.exec(out)?.[1] ?? Number.NaN);
  const errors = [...out.matchAll(/(?:Non-2xx or 3xx responses|Socket errors:.*?timeout)\s*:?\s*(\d+)/g)].reduce(
    (n, m) => n + Number(m[1]),
    0,
  );
  return {
    rps,
    p50Ms: latencyMs(out, "50%"),
    p99Ms: latencyMs(out, "99%"),
    errors,
    cpuUsPerRequest: (cpu * 1e6) / requests,
    userUsPerRequest: (user * 1e6) / requests,
  };
}

/** How many interleaved rounds a comparison runs (BENCH_ROUNDS, default 3). */
export const benchRounds = () => Math.max(1, Number(process.env.BENCH_ROUNDS ?? 3));

/**
 * Runs each peer's measurement in turn, `rounds` times over (A B C A B C ...), so a change in the machine's load
 * falls on every peer alike instead of on whichever ran while it lasted; each peer's result is its median round
 * (by req/s), with errors summed over all rounds.
 */
export async function runInterleaved<K extends string>(
  runs: Record<K, () => Promise<WrkResult>>,
  rounds = benchRounds(),
): Promise<Record<K, WrkResult>> {
  const results = Object.fromEntries(Object.keys(runs).map((k) => [k, [] as WrkResult[]])) as Record<K, WrkResult[]>;
  for (let round = 0; round < rounds; round++) {
    for (const key of Object.keys(runs) as K[]) results[key].push(await runs[key]());
  }
  const median = (all: WrkResult[]): WrkResult => {
    const sorted = [...all].sort((a, b) => a.rps - b.rps);
    return { ...sorted[Math.floor(sorted.length / 2)]!, errors: all.reduce((n, r) => n + r.errors, 0) };
  };
  return Object.fromEntries(Object.entries(results).map(([k, all]) => [k, median(all as WrkResult[])])) as Record<
    K,
    WrkResult
  >;
}

/** utime and stime of a live process, in seconds (/proc/<pid>/stat fields 14 and 15, in clock ticks of 1/100 s on Linux). */
export async function cpuTimes(pid: number): Promise<{ user: number; system: number }> {
  const stat = await Bun.file(`/proc/${pid}/stat`).text();
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return { user: Number(fields[11]) / 100, system: Number(fields[12]) / 100 };
}

function latencyMs(out: string, pct: string): number {
  const m = new RegExp(`${pct}\\s+([\\d.]+)(us|ms|s)`).exec(out);
  if (!m) return Number.NaN;
  const value = Number(m[1]);
  return m[2] === "us" ? value / 1000 : m[2] === "s" ? value * 1000 : value;
}

/** Peak resident set size (VmHWM) of a live process, in MB. */
export async function peakRssMb(pid: number): Promise<number> {
  const status = await Bun.file(`/proc/${pid}/status`).text();
  const kb = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? Number.NaN);
  return Math.round((kb / 1024) * 10) / 10;
}

/**
 * The environment that makes a Bun server here size its heap as it would on its Fly VM. JavaScriptCore sizes
 * its heap growth from the machine's physical RAM (WTF::ramSize); a Fly VM has what fly.toml's [[vm]] gives
 * the app's machines (512 MB), a bench host often 20+ GB, where the same process lets garbage pile up far
 * longer before collecting and its peak RSS says little about production (measured: peak RSS under the API
 * bench 127-150 MB with this host's RAM, or with BUN_JSC_forceRAMSize set to it, 115-123 MB at 512 MB).
 * BUN_JSC_forceRAMSize tells JSC the VM's RAM; Bun passes BUN_JSC_* variables to JSC's options. The memory is
 * read with the deploy library's own fly.toml reader, for the app's default process group.
 */
export async function flyVmEnv(flyToml = "fly.toml"): Promise<Record<string, string>> {
  const loaded = await loadDeployConfig(flyToml);
  const memoryMb = loaded.config ? groupConfig(loaded.config).vm?.guest.memoryMb : undefined;
  if (!loaded.ok || memoryMb === undefined)
    throw new Error(`${flyToml}: no [[vm]] memory found to size the bench's heap as in production`);
  return { BUN_JSC_forceRAMSize: String(memoryMb * 1024 * 1024) };
}

export async function freePort(): Promise<number> {
  const server = Bun.serve({ port: 0, fetch: () => new Response() });
  const port = server.port!;
  server.stop(true);
  return port;
}

export async function startProcess(cmd: string[], env: Record<string, string>, readyUrl: string): Promise<Subprocess> {
  const proc = Bun.spawn(cmd, { env: { ...process.env, ...env }, stdout: "ignore", stderr: "inherit" });
  for (let i = 0; i < 100; i++) {
    try {
      if ((await fetch(readyUrl)).ok) return proc;
    } catch {}
    await Bun.sleep(100);
  }
  proc.kill();
  throw new Error(`${cmd.join(" ")} did not become ready at ${readyUrl}`);
}

export interface Row {
  name: string;
  flightdeck: WrkResult;
  /** Express on Node, the ordinary way. */
  reference: WrkResult;
  /** Bare Elysia on the same Bun: the ceiling Flightdeck is quoted against, where one exists. */
  ceiling?: WrkResult;
}

const fmt = (n: number, digits = 0) => (Number.isFinite(n) ? n.toFixed(digits) : "-");

export function printTable(
  title: string,
  rows: Row[],
  rss: { flightdeck: number; reference: number; ceiling?: number },
  referenceName = "express",
) {
  console.log(`\n## ${title}`);
  console.log(
    `| route | flightdeck req/s | ceiling req/s | % of ceiling | ${referenceName} req/s | x ${referenceName} | CPU us/req fd / ceiling / ${referenceName} | user CPU us/req fd / ceiling / ${referenceName} | flightdeck p50/p99 ms |`,
  );
  console.log("|---|---|---|---|---|---|---|---|---|");
  for (const r of rows) {
    const pct = r.ceiling ? `${fmt((100 * r.flightdeck.rps) / r.ceiling.rps)}%` : "-";
    console.log(
      `| ${r.name} | ${fmt(r.flightdeck.rps)} | ${fmt(r.ceiling?.rps ?? Number.NaN)} | ${pct} | ${fmt(r.reference.rps)} | ${fmt(r.flightdeck.rps / r.reference.rps, 2)}x | ${fmt(r.flightdeck.cpuUsPerRequest, 1)} / ${fmt(r.ceiling?.cpuUsPerRequest ?? Number.NaN, 1)} / ${fmt(r.reference.cpuUsPerRequest, 1)} | ${fmt(r.flightdeck.userUsPerRequest, 1)} / ${fmt(r.ceiling?.userUsPerRequest ?? Number.NaN, 1)} / ${fmt(r.reference.userUsPerRequest, 1)} | ${fmt(r.flightdeck.p50Ms, 2)} / ${fmt(r.flightdeck.p99Ms, 2)} |`,
    );
  }
  console.log(
    `peak RSS: flightdeck ${rss.flightdeck} MB, ${rss.ceiling === undefined ? "" : `ceiling ${rss.ceiling} MB, `}${referenceName} ${rss.reference} MB`,
  );
}

/** One target line: `name: measured vs floor -> PASS/FAIL`. */
export function verdict(name: string, measured: number, floor: number, unit: string, atMost = false): string {
  const pass = atMost ? measured <= floor : measured >= floor;
  return `target: ${name} ${atMost ? "<=" : ">="} ${floor}${unit} -> ${fmt(measured, unit === "x" ? 2 : 1)}${unit} ${pass ? "PASS" : "FAIL"}`;
}
