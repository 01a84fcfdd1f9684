// fly.toml / fly.preview.toml -> DeployConfig.
//
// The files stay flyctl-compatible (same key names, same quirks: flyctl's `internal/appconfig` config.go,
// service.go, toplevelcheck.go, patches.go), so `fly deploy` can still read them. Flightdeck is stricter:
// unknown keys are errors with a near-match hint, keys flyctl knows but we don't implement are named as
// such, and every problem is reported in one go. Durations are kept in milliseconds.

import { type ConfigProblem, type Table, Reader, joinPath } from "./config-reader.ts";
import { GROUPS_ONLY_APP, checkProcesses, readHttpService, readTopLevelChecks } from "./flytoml-services.ts";
import { splitCommand } from "./shell-words.ts";
import { DEFAULT_VM_SIZE, type Guest, VM_PRESETS, guestProblems, parseMemoryMb, parseVolumeSizeGb } from "./vm-sizes.ts";

export type { ConfigProblem } from "./config-reader.ts";
export type { Guest } from "./vm-sizes.ts";
export { splitCommand } from "./shell-words.ts";

export const STRATEGIES = ["rolling", "immediate", "bluegreen", "canary"] as const;
export type Strategy = (typeof STRATEGIES)[number];
export const STOP_SIGNALS = ["SIGHUP", "SIGINT", "SIGQUIT", "SIGKILL", "SIGUSR1", "SIGUSR2", "SIGTERM"] as const;
export type StopSignal = (typeof STOP_SIGNALS)[number];
export type AutoStop = "off" | "stop" | "suspend";

export type HttpCheck = {
  gracePeriodMs?: number;
  intervalMs?: number;
  timeoutMs?: number;
  method?: string;
  path?: string;
  protocol?: "http" | "https";
  tlsSkipVerify?: boolean;
  tlsServerName?: string;
  headers?: Record<string, string>;
};
export type TopLevelCheck = HttpCheck & { type: "http" | "tcp"; port?: number };

export type HttpService = {
  internalPort: number;
  forceHttps: boolean;
  autoStopMachines?: AutoStop;
  autoStartMachines?: boolean;
  minMachinesRunning?: number;
  concurrency?: { type?: "requests" | "connections"; softLimit?: number; hardLimit?: number };
  checks: HttpCheck[];
};

export type DeploySettings = {
  releaseCommand?: string;
  strategy: Strategy;
  /** < 1: fraction of started machines updated at once; >= 1: a count (flyctl `max_unavailable`). */
  maxUnavailable: number;
  waitTimeoutMs: number;
  releaseCommandTimeoutMs: number;
};

export type MountSpec = { source: string; destination: string; initialSizeGb: number; snapshotRetention?: number };

export type DeployConfig = {
  app: string;
  primaryRegion: string;
  killSignal?: StopSignal;
  killTimeoutMs?: number;
  build: { image?: string; dockerfile?: string };
  deploy: DeploySettings;
  env: Record<string, string>;
  httpService?: HttpService;
  checks: Record<string, TopLevelCheck>;
  mount?: MountSpec;
  /** Resolved from `[[vm]]` (preset, then `memory`, then inline fields); absent = no `[[vm]]`. */
  vm?: { size: string; guest: Guest };
  restart?: { policy: "always" | "never" | "on-failure"; retries?: number };
  metrics?: { port: number; path: string; https?: boolean };
};

/** flyctl's deploy defaults (`internal/command/deploy/machines.go`). */
export const DEPLOY_DEFAULTS = { strategy: "rolling", maxUnavailable: 0.33, waitTimeoutMs: 300_000, releaseCommandTimeoutMs: 300_000 } as const;
export const DEFAULT_VOLUME_SIZE_GB = 1;

export type ParseResult = { ok: true; config: DeployConfig } | { ok: false; problems: ConfigProblem[] };


const TOP = ["app", "primary_region", "kill_signal", "kill_timeout", "build", "deploy", "env", "http_service", "checks", "mounts", "vm", "restart", "metrics"];
const TOP_UNSUPPORTED = {
  processes: GROUPS_ONLY_APP,
  services: "use [http_service]; raw [[services]] are not deployed",
  swap_size_mb: "not deployed", console_command: "not used", experimental: "not deployed", files: "not deployed",
  statics: "not deployed", host_dedication_id: "not deployed", machine_config: "not deployed", container: "not deployed",
  machine_checks: "not run", compute: "write it as [[vm]]", mount: "write it as [mounts]",
};
const APP_NAME = /^[a-z0-9][a-z0-9-]{0,61}[a-z0-9]$/;
const REGION = /^[a-z]{3}$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const VOLUME_NAME = /^[a-z0-9_]{1,30}$/;

export function parseDeployConfig(text: string, opts: { path?: string } = {}): ParseResult {
  let raw: unknown;
  try {
    raw = Bun.TOML.parse(text);
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    return { ok: false, problems: [{ path: "", message: `${opts.path ?? "fly.toml"} is not valid TOML: ${msg}` }] };
  }
  const r = new Reader();
  const config = readConfig(r, raw);
  if (r.problems.length > 0 || config === undefined) return { ok: false, problems: r.problems };
  return { ok: true, config };
}

export async function loadDeployConfig(path: string): Promise<ParseResult> {
  const file = Bun.file(path);
  if (!(await file.exists())) {
    return { ok: false, problems: [{ path: "", message: `${path} not found; pass --config <file> or run from the repository root` }] };
  }
  return parseDeployConfig(await file.text(), { path });
}

/** "path: message" lines, the shape printed by the CLI. */
export function formatProblems(problems: ConfigProblem[]): string {
  return problems.map((p) => (p.path === "" ? p.message : `${p.path}: ${p.message}`)).join("\n");
}

export class DeployConfigError extends Error {
  readonly code = "deploy_config_invalid";
  constructor(readonly file: string, readonly problems: ConfigProblem[]) {
    super(`${file} has ${problems.length} problem(s):\n${formatProblems(problems)}`);
    this.name = "DeployConfigError";
  }
}

function readConfig(r: Reader, raw: unknown): DeployConfig | undefined {
  const t = r.table("", raw, TOP, TOP_UNSUPPORTED);
  if (!t) return undefined;
  const app = r.required("app", r.string("app", t.app, { pattern: APP_NAME, rule: "Fly app names use lowercase letters, digits and dashes" }), t.app, "the Fly app name");
  const primaryRegion = r.required(
    "primary_region",
    r.string("primary_region", t.primary_region, { pattern: REGION, rule: "a three-letter Fly region code such as \"ewr\"" }),
    t.primary_region,
    "the region new machines and volumes go to, e.g. \"ewr\"",
  );
  const mount = readMounts(r, t.mounts);
  const httpService = t.http_service === undefined ? undefined : readHttpService(r, t.http_service);
  const checks = readTopLevelChecks(r, t.checks, httpService);
  const deploy = readDeploy(r, t.deploy, { hasMount: mount !== undefined, hasChecks: Object.keys(checks).length > 0 || (httpService?.checks.length ?? 0) > 0 });
  const config: DeployConfig = {
    app: app ?? "",
    primaryRegion: primaryRegion ?? "",
    build: readBuild(r, t.build),
    deploy,
    env: readEnv(r, t.env),
    checks,
  };
  const killSignal = r.oneOf("kill_signal", t.kill_signal, STOP_SIGNALS);
  if (killSignal) config.killSignal = killSignal;
  const killTimeoutMs = r.duration("kill_timeout", t.kill_timeout, "s");
  if (killTimeoutMs !== undefined) config.killTimeoutMs = killTimeoutMs;
  if (httpService) config.httpService = httpService;
  if (mount) config.mount = mount;
  const vm = readVm(r, t.vm);
  if (vm) config.vm = vm;
  const restart = readRestart(r, t.restart);
  if (restart) config.restart = restart;
  const metrics = readMetrics(r, t.metrics);
  if (metrics) config.metrics = metrics;
  return config;
}

/** `[x]` and `[[x]]` both mean a list to flyctl; with one process group only the first entry could apply. */
function single(r: Reader, path: string, value: unknown, what: string): { path: string; value: unknown } | undefined {
  const entries = r.tables(path, value);
  if (entries.length > 1) r.problem(path, `only one ${what} entry is supported (found ${entries.length})`);
  return entries[0];
}

function readBuild(r: Reader, value: unknown): DeployConfig["build"] {
  if (value === undefined) return {};
  const t = r.table("build", value, ["image", "dockerfile"], {
    builder: "images are built daemonlessly from the Dockerfile", buildpacks: "not supported", args: "not supported",
    settings: "not supported", builtin: "not supported", ignorefile: "not supported", "build-target": "not supported",
    build_target: "not supported", compose: "not supported", compression: "not supported", compression_level: "not supported",
  });
  if (!t) return {};
  const out: DeployConfig["build"] = {};
  const image = r.string("build.image", t.image);
  if (image) out.image = image;
  const dockerfile = r.string("build.dockerfile", t.dockerfile);
  if (dockerfile) out.dockerfile = dockerfile;
  return out;
}

function readDeploy(r: Reader, value: unknown, ctx: { hasMount: boolean; hasChecks: boolean }): DeploySettings {
  const out: DeploySettings = { ...DEPLOY_DEFAULTS };
  if (value === undefined) return out;
  const t = r.table("deploy", value, ["release_command", "strategy", "max_unavailable", "wait_timeout", "release_command_timeout"], {
    release_command_vm: "the release command runs on the app's [[vm]] size", seed_command: "not run",
  });
  if (!t) return out;
  const cmd = r.string("deploy.release_command", t.release_command);
  if (cmd !== undefined) {
    if (splitCommand(cmd) === null || cmd.trim() === "") r.problem("deploy.release_command", "cannot be split into words (unbalanced quotes or empty)");
    else out.releaseCommand = cmd;
  }
  const strategy = r.oneOf("deploy.strategy", t.strategy, STRATEGIES);
  if (strategy) out.strategy = strategy;
  // flyctl validation.go: canary creates an extra machine, which cannot share a volume.
  if (strategy === "canary" && ctx.hasMount) r.problem("deploy.strategy", "canary cannot be used with [mounts] (flyctl refuses it too); use rolling");
  if (strategy === "bluegreen" && !ctx.hasChecks) r.problem("deploy.strategy", "bluegreen needs at least one health check to know when green machines are ready");
  const maxU = r.number("deploy.max_unavailable", t.max_unavailable);
  if (maxU !== undefined) {
    if (maxU <= 0 || (maxU >= 1 && !Number.isInteger(maxU))) r.problem("deploy.max_unavailable", `${maxU} must be a fraction between 0 and 1 or a whole number of machines`);
    else out.maxUnavailable = maxU;
  }
  const wait = r.duration("deploy.wait_timeout", t.wait_timeout, null);
  if (wait !== undefined) out.waitTimeoutMs = wait;
  const rct = r.duration("deploy.release_command_timeout", t.release_command_timeout, null);
  if (rct !== undefined) out.releaseCommandTimeoutMs = rct;
  return out;
}

function readEnv(r: Reader, value: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  // flyctl merges an array of [[env]] tables and stringifies scalar values (`fmt.Sprintf("%v")`).
  for (const entry of r.tables("env", value)) {
    if (!entry.value || typeof entry.value !== "object" || Array.isArray(entry.value)) {
      r.problem(entry.path, "expected a table of NAME = value");
      continue;
    }
    for (const [name, v] of Object.entries(entry.value as Table)) {
      const path = joinPath(entry.path, name);
      if (!ENV_NAME.test(name)) r.problem(path, "environment variable names use letters, digits and _ and do not start with a digit");
      else if (typeof v === "string" || typeof v === "number" || typeof v === "boolean") out[name] = String(v);
      else r.problem(path, "expected a string, number or boolean");
    }
  }
  return out;
}

function readMounts(r: Reader, value: unknown): MountSpec | undefined {
  const entry = single(r, "mounts", value, "[mounts]");
  if (!entry) return undefined;
  const t = r.table(entry.path, entry.value, ["source", "destination", "initial_size", "snapshot_retention", "processes"], {
    auto_extend_size_threshold: "not deployed", auto_extend_size_increment: "not deployed", auto_extend_size_limit: "not deployed", scheduled_snapshots: "not deployed",
  });
  if (!t) return undefined;
  checkProcesses(r, joinPath(entry.path, "processes"), t.processes);
  const source = r.required(joinPath(entry.path, "source"), r.string(joinPath(entry.path, "source"), t.source, { pattern: VOLUME_NAME, rule: "volume names use lowercase letters, digits and _ (at most 30)" }), t.source, "the volume name");
  const destination = r.required(joinPath(entry.path, "destination"), r.string(joinPath(entry.path, "destination"), t.destination, { pattern: /^\/./, rule: "an absolute path inside the machine" }), t.destination, "the mount path, e.g. /app/media");
  let initialSizeGb = DEFAULT_VOLUME_SIZE_GB;
  if (t.initial_size !== undefined) {
    const size = typeof t.initial_size === "string" || typeof t.initial_size === "number" ? parseVolumeSizeGb(t.initial_size) : null;
    if (size === null) r.problem(joinPath(entry.path, "initial_size"), `${JSON.stringify(t.initial_size)} is not a size; use whole GB such as 1 or "10gb"`);
    else initialSizeGb = size;
  }
  const retention = r.integer(joinPath(entry.path, "snapshot_retention"), t.snapshot_retention, { min: 1, max: 60 });
  if (!source || !destination) return undefined;
  const out: MountSpec = { source, destination, initialSizeGb };
  if (retention !== undefined) out.snapshotRetention = retention;
  return out;
}

function readVm(r: Reader, value: unknown): DeployConfig["vm"] {
  const entry = single(r, "vm", value, "[[vm]]");
  if (!entry) return undefined;
  const t = r.table(entry.path, entry.value, ["size", "memory", "memory_mb", "cpus", "cpu_kind", "processes"], {
    gpus: "not deployed", gpu_kind: "not deployed", kernel_args: "not deployed", host_dedication_id: "not deployed", persist_rootfs: "not deployed",
  });
  if (!t) return undefined;
  checkProcesses(r, joinPath(entry.path, "processes"), t.processes);
  const size = r.oneOf(joinPath(entry.path, "size"), t.size ?? DEFAULT_VM_SIZE, Object.keys(VM_PRESETS));
  if (!size) return undefined;
  // flyctl computeToGuest: preset first, then `memory`, then any inline MachineGuest field.
  const guest: Guest = { ...(VM_PRESETS[size] as Guest) };
  if (t.memory !== undefined) {
    const mb = typeof t.memory === "string" || typeof t.memory === "number" ? parseMemoryMb(t.memory) : null;
    if (mb === null) r.problem(joinPath(entry.path, "memory"), `${JSON.stringify(t.memory)} is not a memory size; use "512mb", "1gb" or MB as an integer`);
    else guest.memoryMb = mb;
  }
  const memoryMb = r.integer(joinPath(entry.path, "memory_mb"), t.memory_mb, { min: 256 });
  if (memoryMb !== undefined) guest.memoryMb = memoryMb;
  const cpus = r.integer(joinPath(entry.path, "cpus"), t.cpus, { min: 1, max: 16 });
  if (cpus !== undefined) guest.cpus = cpus;
  const kind = r.oneOf(joinPath(entry.path, "cpu_kind"), t.cpu_kind, ["shared", "performance"] as const);
  if (kind) guest.cpuKind = kind;
  for (const p of guestProblems(guest)) r.problem(entry.path, p);
  return { size, guest };
}

function readRestart(r: Reader, value: unknown): DeployConfig["restart"] {
  const entry = single(r, "restart", value, "[[restart]]");
  if (!entry) return undefined;
  const t = r.table(entry.path, entry.value, ["policy", "retries", "processes"]);
  if (!t) return undefined;
  checkProcesses(r, joinPath(entry.path, "processes"), t.processes);
  const policy = r.required(joinPath(entry.path, "policy"), r.oneOf(joinPath(entry.path, "policy"), t.policy, ["always", "never", "on-failure"] as const), t.policy, "\"always\", \"never\" or \"on-failure\"");
  const retries = r.integer(joinPath(entry.path, "retries"), t.retries, { min: 0 });
  if (!policy) return undefined;
  return retries === undefined ? { policy } : { policy, retries };
}

function readMetrics(r: Reader, value: unknown): DeployConfig["metrics"] {
  const entry = single(r, "metrics", value, "[[metrics]]");
  if (!entry) return undefined;
  const t = r.table(entry.path, entry.value, ["port", "path", "https", "processes"]);
  if (!t) return undefined;
  checkProcesses(r, joinPath(entry.path, "processes"), t.processes);
  const port = r.required(joinPath(entry.path, "port"), r.integer(joinPath(entry.path, "port"), t.port, { min: 1, max: 65535 }), t.port, "the metrics port");
  const path = r.required(joinPath(entry.path, "path"), r.string(joinPath(entry.path, "path"), t.path, { pattern: /^\//, rule: "must start with /" }), t.path, "the metrics path, e.g. /metrics");
  const https = r.bool(joinPath(entry.path, "https"), t.https);
  if (port === undefined || path === undefined) return undefined;
  return https === undefined ? { port, path } : { port, path, https };
}
