/**
 * Shared bench plumbing: start a server process, drive it with wrk, read its peak RSS, print a comparison.
 * Benches compare Flightdeck with a reference in the same run and quote ratios, because these machines are
 * noisy and absolute numbers from one run mean little.
 * @module
 */
import type { Subprocess } from "bun";

export interface WrkResult { rps: number; p50Ms: number; p99Ms: number; errors: number }
export interface WrkOptions { threads?: number; connections?: number; durationS?: number; script?: string; headers?: Record<string, string> }

export function requireTool(name: string, install: string) {
  if (!Bun.which(name)) {
    console.error(`bench: '${name}' is not installed. Install it with: ${install}`);
    process.exit(2);
  }
}

export async function runWrk(url: string, opts: WrkOptions = {}): Promise<WrkResult> {
  const args = ["wrk", `-t${opts.threads ?? 2}`, `-c${opts.connections ?? 64}`, `-d${opts.durationS ?? 10}s`, "--latency"];
  for (const [k, v] of Object.entries(opts.headers ?? {})) args.push("-H", `${k}: ${v}`);
  if (opts.script) args.push("-s", opts.script);
  args.push(url);
  const proc = Bun.spawn(args, { stdout: "pipe", stderr: "pipe" });
  const out = await new Response(proc.stdout).text();
  if ((await proc.exited) !== 0) throw new Error(`wrk failed: ${await new Response(proc.stderr).text()}`);
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? Number.NaN);
  const errors = [...out.matchAll(/(?:Non-2xx or 3xx responses|Socket errors:.*?timeout)\s*:?\s*(\d+)/g)].reduce((n, m) => n + Number(m[1]), 0);
  return { rps, p50Ms: latencyMs(out, "50%"), p99Ms: latencyMs(out, "99%"), errors };
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

export interface Row { name: string; flightdeck: WrkResult; reference: WrkResult }

export function printTable(title: string, rows: Row[], rss: { flightdeck: number; reference: number }, referenceName = "express") {
  console.log(`\n## ${title}`);
  console.log(`| route | flightdeck req/s | ${referenceName} req/s | ratio | flightdeck p50/p99 ms | ${referenceName} p50/p99 ms |`);
  console.log("|---|---|---|---|---|---|");
  for (const r of rows) {
    console.log(`| ${r.name} | ${r.flightdeck.rps.toFixed(0)} | ${r.reference.rps.toFixed(0)} | ${(r.flightdeck.rps / r.reference.rps).toFixed(2)}x | ${r.flightdeck.p50Ms.toFixed(2)} / ${r.flightdeck.p99Ms.toFixed(2)} | ${r.reference.p50Ms.toFixed(2)} / ${r.reference.p99Ms.toFixed(2)} |`);
  }
  console.log(`peak RSS: flightdeck ${rss.flightdeck} MB, ${referenceName} ${rss.reference} MB`);
}
