// fly.toml / fly.preview.toml -> DeployConfig, reading every file flyctl reads (internal/appconfig: config.go,
// patches.go, service.go, toplevelcheck.go, validation.go), with its quirks and aliases. As in flyctl, unknown keys
// do not stop a deploy: they are warnings with a near-match hint (`--strict` makes every warning an error). Keys
// flyctl knows that Flightdeck does not act on are accepted with a note saying what they mean here. Problems are
// what flyctl itself refuses (or the Machines API would): all are reported in one go. Durations are milliseconds.

import { readFileSync } from "node:fs";
import { dirname, isAbsolute, join } from "node:path";
import { type ConfigProblem, type Noted, Reader, type Table, isTable, joinPath } from "./config-reader.ts";
import { groupProblems } from "./flytoml-groups.ts";
import { aliasEntries, readFile, readMetrics, readMount, readRestart, readStatic, readVm } from "./flytoml-sections.ts";
import { readHttpService, readServices, readTopLevelChecks } from "./flytoml-services.ts";
import { readPrimaryRegion } from "./flytoml-region.ts";
import {
  type BuildSettings,
  type DeployConfig,
  type DeploySettings,
  type Experimental,
  STOP_SIGNALS,
  STRATEGIES,
} from "./flytoml-types.ts";
import { splitCommand } from "./shell-words.ts";
import { formatTomlError, locateTomlError } from "./toml-syntax.ts";

export type { ConfigProblem } from "./config-reader.ts";
export type { Guest } from "./vm-sizes.ts";
export * from "./flytoml-types.ts";
export { splitCommand } from "./shell-words.ts";
export { DEFAULT_VOLUME_SIZE_GB } from "./flytoml-sections.ts";
export { dockerBuildOf } from "./docker-build.ts";

/** flyctl's deploy defaults (`internal/command/deploy/machines.go`). */
export const DEPLOY_DEFAULTS = {
  strategy: "rolling",
  maxUnavailable: 0.33,
  waitTimeoutMs: 300_000,
  releaseCommandTimeoutMs: 300_000,
} as const;

export type ParseOptions = {
  /** The file name used in messages; its directory anchors [[files]] local_path and machine_config paths. */
  path?: string;
  /** `--strict`: every warning is a problem. */
  strict?: boolean;
  /** Region codes to accept although regions.ts lacks them (`--allow-region`, FLIGHTDECK_ALLOW_REGIONS). */
  allowRegions?: readonly string[];
};

/**
 * `config` is present whenever the file could be read (flyctl's LoadConfig would succeed), even with problems,
 * so callers can say what is wrong with a config they understood; `ok` says whether it can be deployed.
 */
export type ParseResult =
  | { ok: true; config: DeployConfig; warnings: ConfigProblem[] }
  | { ok: false; problems: ConfigProblem[]; warnings: ConfigProblem[]; config?: DeployConfig };

const TOP = [
  "app",
  "app_name",
  "primary_region",
  "kill_signal",
  "kill_timeout",
  "swap_size_mb",
  "console_command",
  "host_dedication_id",
  "experimental",
  "build",
  "deploy",
  "env",
  "processes",
  "http_service",
  "services",
  "checks",
  "files",
  "machine_config",
  "restart",
  "statics",
  "mounts",
  "mount",
  "vm",
  "compute",
  "computes",
  "metrics",
  "metric",
];
const TOP_NOTED: Noted = {
  container: "selects a container of machine_config; Flightdeck deploys single-container machines",
  machine_checks:
    "machine_checks start test machines during a flyctl deploy; Flightdeck checks health with the service and top-level checks",
};
const APP_NAME = /^[a-z0-9][a-z0-9-]{0,61}[a-z0-9]$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function parseDeployConfig(text: string, opts: ParseOptions = {}): ParseResult {
  let raw: unknown;
  try {
    raw = Bun.TOML.parse(text);
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    const where = locateTomlError(text);
    const file = opts.path ?? "fly.toml";
    return {
      ok: false,
      problems: [{ path: "", message: where ? formatTomlError(file, where) : `${file} is not valid TOML: ${msg}` }],
      warnings: [],
    };
  }
  const r = new Reader();
  const config = readConfig(r, raw, opts.path === undefined ? undefined : dirname(opts.path), opts.allowRegions ?? []);
  if (config)
    for (const p of groupProblems(config)) p.warning ? r.warn(p.path, p.message) : r.problem(p.path, p.message);
  const problems = opts.strict
    ? [...r.problems, ...r.warnings.map((w) => ({ ...w, message: `${w.message} (an error under --strict)` }))]
    : r.problems;
  const warnings = opts.strict ? [] : r.warnings;
  if (problems.length > 0 || config === undefined)
    return { ok: false, problems, warnings, ...(config ? { config } : {}) };
  return { ok: true, config, warnings };
}

export async function loadDeployConfig(path: string, opts: Omit<ParseOptions, "path"> = {}): Promise<ParseResult> {
  const file = Bun.file(path);
  if (!(await file.exists())) {
    return {
      ok: false,
      problems: [{ path: "", message: `${path} not found; pass --config <file> or run from the repository root` }],
      warnings: [],
    };
  }
  return parseDeployConfig(await file.text(), { ...opts, path });
}

/** "path: message" lines, the shape printed by the CLI. */
export function formatProblems(problems: ConfigProblem[]): string {
  return problems.map((p) => (p.path === "" ? p.message : `${p.path}: ${p.message}`)).join("\n");
}

export class DeployConfigError extends Error {
  readonly code = "deploy_config_invalid";
  constructor(
    readonly file: string,
    readonly problems: ConfigProblem[],
  ) {
    super(`${file} has ${problems.length} problem(s):\n${formatProblems(problems)}`);
    this.name = "DeployConfigError";
  }
}

function readConfig(
  r: Reader,
  raw: unknown,
  dir: string | undefined,
  regions: readonly string[],
): DeployConfig | undefined {
  const t = r.table("", raw, TOP, TOP_NOTED);
  if (!t) return undefined;
  const experimental = readExperimental(r, t.experimental, dir);
  const config: DeployConfig = {
    app: readApp(r, t),
    build: readBuild(r, t.build),
    deploy: readDeploy(r, t.deploy),
    env: readEnv(r, t.env),
    experimental: experimental.settings,
    processes: readProcessMap(r, t.processes),
    services: readServices(r, t.services),
    checks: readTopLevelChecks(r, t.checks),
    mounts: [],
    vms: [],
    restarts: [],
    metrics: [],
    statics: [],
    files: [],
  };
  const primaryRegion = readPrimaryRegion(r, t.primary_region, regions);
  if (primaryRegion) config.primaryRegion = primaryRegion;
  const killSignal = r.oneOf("kill_signal", t.kill_signal, STOP_SIGNALS);
  if (killSignal) config.killSignal = killSignal;
  // flyctl `patchExperimental`: [experimental] kill_timeout applies when the top-level one is absent.
  const killTimeoutMs = r.duration("kill_timeout", t.kill_timeout, "s") ?? experimental.killTimeoutMs;
  if (killTimeoutMs !== undefined) config.killTimeoutMs = killTimeoutMs;
  const swap = r.integer("swap_size_mb", t.swap_size_mb, { min: 1 });
  if (swap !== undefined) config.swapSizeMb = swap;
  const consoleCommand = r.string("console_command", t.console_command);
  if (consoleCommand !== undefined) {
    if (splittable(r, "console_command", consoleCommand) && consoleCommand !== "")
      config.consoleCommand = consoleCommand;
  }
  const hdid = r.string("host_dedication_id", t.host_dedication_id);
  if (hdid) config.hostDedicationId = hdid;
  if (t.machine_config !== undefined && config.experimental.machineConfig === undefined) {
    const mc = readMachineConfig(r, "machine_config", t.machine_config, dir);
    if (mc) config.experimental.machineConfig = mc;
  }
  if (t.http_service !== undefined) {
    const http = readHttpService(r, t.http_service);
    if (http) config.httpService = http;
  }
  for (const e of aliasEntries(r, t, ["mount", "mounts"])) push(config.mounts, readMount(r, e));
  for (const e of aliasEntries(r, t, ["compute", "computes", "vm"]))
    push(config.vms, readVm(r, e, config.hostDedicationId));
  for (const e of r.tables("restart", t.restart)) push(config.restarts, readRestart(r, e));
  const metrics = aliasEntries(r, t, ["metric", "metrics"]);
  for (const e of metrics) push(config.metrics, readMetrics(r, e));
  if (metrics.length === 0 && experimental.metrics) config.metrics.push({ ...experimental.metrics, processes: [] });
  for (const e of r.tables("statics", t.statics)) push(config.statics, readStatic(r, e));
  for (const e of r.tables("files", t.files)) push(config.files, readFile(r, e, dir));
  const hasMount = config.mounts.length > 0;
  // flyctl validation.go: canary creates an extra machine, which cannot share a volume.
  if (config.deploy.strategy === "canary" && hasMount)
    r.problem("deploy.strategy", "canary cannot be used with [mounts] (flyctl refuses it too); use rolling");
  return config;
}

/** Commands are split like flyctl's google/shlex; one that cannot be is refused where it is written. */
function splittable(r: Reader, path: string, command: string): boolean {
  if (splitCommand(command) !== null) return true;
  r.problem(path, "cannot be split into words (unbalanced quotes)");
  return false;
}

function push<T>(list: T[], item: T | undefined): void {
  if (item !== undefined) list.push(item);
}

/** `app`, or the legacy `app_name` (Apps V1 configs, e.g. from `fly config save` of old apps), with a warning. */
function readApp(r: Reader, t: Table): string {
  const rule = { pattern: APP_NAME, rule: "Fly app names use lowercase letters, digits and dashes" };
  // An empty app is no app, as in flyctl (templates ship `app = ""`): commands then ask for one.
  const app = t.app === "" ? undefined : r.string("app", t.app, rule);
  if (t.app_name !== undefined) {
    if (app !== undefined) {
      r.warn("app_name", "legacy alias of app, ignored because app is set");
    } else {
      const legacy = r.string("app_name", t.app_name, rule);
      if (legacy) {
        r.warn("app_name", `legacy key; write app = "${legacy}" instead`);
        return legacy;
      }
    }
  }
  return app ?? "";
}

function readProcessMap(r: Reader, value: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (value === undefined) return out;
  if (Array.isArray(value)) {
    // flyctl `patchProcesses`: the old [[processes]] name/command list (and the empty list GraphQL returned).
    value.forEach((item, i) => {
      const path = joinPath("processes", i);
      const t = r.table(path, item, ["name", "command"]);
      if (!t || t.name === undefined) return;
      const name = String(t.name);
      out[name] = t.command === undefined ? "" : String(t.command);
    });
  } else {
    const t = r.table("processes", value, isTable(value) ? Object.keys(value) : []);
    if (!t) return out;
    for (const [name, cmd] of Object.entries(t)) {
      const command = r.string(joinPath("processes", name), cmd);
      if (command !== undefined) out[name] = command;
    }
  }
  for (const [name, cmd] of Object.entries(out)) {
    const path = joinPath("processes", name);
    if (!/^[a-z0-9_-]{1,63}$/i.test(name)) r.problem(path, "process group names use letters, digits, - and _");
    splittable(r, path, cmd);
  }
  return out;
}

const BUILD_NOTED: Noted = {
  settings: "buildpack settings apply to flyctl's buildpack builds only",
  builtin: "flyctl's builtin builders are not used; pass --image",
  compose: "docker compose builds are not run by Flightdeck",
  compression: "flyctl's image layer compression setting; the daemonless builder always uses gzip",
  compression_level: "flyctl's image layer compression setting; the daemonless builder picks its own level",
};

function readBuild(r: Reader, value: unknown): BuildSettings {
  if (value === undefined) return {};
  const t = r.table(
    "build",
    value,
    ["image", "dockerfile", "ignorefile", "build-target", "build_target", "builder", "buildpacks", "args"],
    BUILD_NOTED,
  );
  if (!t) return {};
  const out: BuildSettings = {};
  const image = r.string("build.image", t.image);
  if (image) out.image = image;
  const dockerfile = r.string("build.dockerfile", t.dockerfile);
  if (dockerfile) out.dockerfile = dockerfile;
  const ignorefile = r.string("build.ignorefile", t.ignorefile);
  if (ignorefile) out.ignorefile = ignorefile;
  // flyctl `patchBuild`: build_target is renamed build-target.
  const target = r.string("build.build-target", t["build-target"] ?? t.build_target);
  if (target) out.buildTarget = target;
  const builder = r.string("build.builder", t.builder);
  if (builder) out.builder = builder;
  const buildpacks = r.stringArray("build.buildpacks", t.buildpacks);
  if (buildpacks) out.buildpacks = buildpacks;
  if (t.args !== undefined) {
    const args = r.table("build.args", t.args, isTable(t.args) ? Object.keys(t.args) : []);
    if (args) out.args = Object.fromEntries(Object.entries(args).map(([k, v]) => [k, String(v)]));
  }
  return out;
}

function readDeploy(r: Reader, value: unknown): DeploySettings {
  const out: DeploySettings = { ...DEPLOY_DEFAULTS };
  if (value === undefined) return out;
  const t = r.table(
    "deploy",
    value,
    ["release_command", "strategy", "max_unavailable", "wait_timeout", "release_command_timeout", "release_command_vm"],
    {
      seed_command: "flyctl runs it on `fly launch` only; Flightdeck never runs it",
    },
  );
  if (!t) return out;
  const cmd = r.string("deploy.release_command", t.release_command);
  if (cmd !== undefined && cmd.trim() !== "") {
    if (splittable(r, "deploy.release_command", cmd)) out.releaseCommand = cmd;
  }
  const strategy = r.oneOf("deploy.strategy", t.strategy, STRATEGIES);
  if (strategy) out.strategy = strategy;
  const maxU = r.number("deploy.max_unavailable", t.max_unavailable);
  if (maxU !== undefined) {
    if (maxU <= 0 || (maxU >= 1 && !Number.isInteger(maxU)))
      r.problem("deploy.max_unavailable", `${maxU} must be a fraction between 0 and 1 or a whole number of machines`);
    else out.maxUnavailable = maxU;
  }
  const wait = r.duration("deploy.wait_timeout", t.wait_timeout, null);
  if (wait !== undefined) out.waitTimeoutMs = wait;
  const rct = r.duration("deploy.release_command_timeout", t.release_command_timeout, null);
  if (rct !== undefined) out.releaseCommandTimeoutMs = rct;
  if (t.release_command_vm !== undefined) {
    const vm = readVm(r, { path: "deploy.release_command_vm", value: t.release_command_vm });
    if (vm) out.releaseCommandVm = vm.guest;
  }
  return out;
}

function readEnv(r: Reader, value: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  // flyctl merges an array of [[env]] tables and stringifies scalar values (`fmt.Sprintf("%v")`).
  for (const entry of r.tables("env", value)) {
    if (!isTable(entry.value)) {
      r.problem(entry.path, "expected a table of NAME = value");
      continue;
    }
    for (const [name, v] of Object.entries(entry.value)) {
      const path = joinPath(entry.path, name);
      if (!ENV_NAME.test(name))
        r.problem(path, "environment variable names use letters, digits and _ and do not start with a digit");
      else if (typeof v === "string" || typeof v === "number" || typeof v === "boolean") out[name] = String(v);
      else r.problem(path, "expected a string, number or boolean");
    }
  }
  return out;
}

/** What each Apps V1 [experimental] flag means on Fly Machines today (flyctl accepts them all). */
const EXPERIMENTAL_NOTED: Noted = {
  auto_rollback: "Flightdeck always puts back the machines a failed rollout moved",
  enable_consul: "Consul access is an Apps V1 feature; Machines do not get it",
  enable_etcd: "etcd access is an Apps V1 feature; Machines do not get it",
  lazy_load_images: "image loading is Fly's choice on Machines",
  attached: "attached secrets are an Apps V1 feature",
  private_network: "every Fly app is on its organization's private network (6PN) today",
  allowed_public_ports: "public ports come from [[services]] / [http_service] on Machines",
};

function readExperimental(
  r: Reader,
  value: unknown,
  dir: string | undefined,
): { settings: Experimental; killTimeoutMs?: number; metrics?: { port: number; path: string } } {
  const out: { settings: Experimental; killTimeoutMs?: number; metrics?: { port: number; path: string } } = {
    settings: {},
  };
  if (value === undefined) return out;
  if (!isTable(value)) {
    r.problem("experimental", "expected a table");
    return out;
  }
  const known = ["cmd", "entrypoint", "exec", "machine_config", "kill_timeout", "metrics_port", "metrics_path"];
  // Every other key is an Apps V1 flag: accepted with a note, never an unknown-key warning.
  const noted: Noted = { ...EXPERIMENTAL_NOTED };
  for (const key of Object.keys(value))
    if (!known.includes(key) && noted[key] === undefined)
      noted[key] = "an Apps V1 experimental flag; Fly Machines ignore it";
  const t = r.table("experimental", value, known, noted);
  if (!t) return out;
  for (const key of ["cmd", "entrypoint", "exec"] as const) {
    const words = r.stringOrList(joinPath("experimental", key), t[key]);
    if (words !== undefined) out.settings[key] = words;
  }
  if (t.machine_config !== undefined) {
    const mc = readMachineConfig(r, "experimental.machine_config", t.machine_config, dir);
    if (mc) out.settings.machineConfig = mc;
  }
  const kt = r.duration("experimental.kill_timeout", t.kill_timeout, "s");
  if (kt !== undefined) out.killTimeoutMs = kt;
  const port = r.intLike("experimental.metrics_port", t.metrics_port, { min: 1, max: 65535 });
  const path = r.string("experimental.metrics_path", t.metrics_path);
  if (port !== undefined && path !== undefined) out.metrics = { port, path };
  return out;
}

/** flyctl `config.ParseConfig`: inline JSON starting with "{", or a path ending in .json (relative to fly.toml here). */
function readMachineConfig(
  r: Reader,
  path: string,
  value: unknown,
  dir: string | undefined,
): Record<string, unknown> | undefined {
  const source = r.string(path, value);
  if (source === undefined || source === "") return undefined;
  let text = source;
  if (!source.trimStart().startsWith("{")) {
    if (!source.endsWith(".json")) {
      r.problem(path, `${JSON.stringify(source)} is neither inline JSON nor a .json file`);
      return undefined;
    }
    try {
      text = readFileSync(isAbsolute(source) || dir === undefined ? source : join(dir, source), "utf8");
    } catch (error) {
      r.problem(path, `cannot read ${source}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
      return undefined;
    }
  }
  try {
    const parsed: unknown = JSON.parse(text);
    if (isTable(parsed)) return parsed;
    r.problem(path, "must be a JSON object (a machine config)");
  } catch (error) {
    r.problem(path, `is not valid JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
  return undefined;
}
