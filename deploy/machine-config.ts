// DeployConfig + image + release -> the Machines API `fly.MachineConfig`, the way flyctl's
// `Config.updateMachineConfig` / `ToReleaseMachineConfig` build it (internal/appconfig/machines.go, service.go).
// Pure: no I/O; apply.ts sends the result.
//
// Differences from flyctl, on purpose:
// - We always build the whole config (never merge into the live one), so with no `[[vm]]` the guest is the
//   shared-cpu-1x preset rather than "whatever the machine had".
// - `autostop` is sent as the spec's string enum ("stop"/"off"/"suspend"); flyctl sends true/false, which the
//   API also accepts. Responses may come back as booleans, which is why comparisons use the digest below,
//   never a field-by-field diff of a live config.

import type { components } from "../lib/fly/openapi.ts";
import { formatGoDuration } from "./durations.ts";
import { type DeployConfig, type HttpCheck, splitCommand } from "./flytoml.ts";
import { DEFAULT_VM_SIZE, type Guest, VM_PRESETS } from "./vm-sizes.ts";

type S = components["schemas"];
export type MachineConfig = S["fly.MachineConfig"];

export const METADATA = {
  platformVersion: "fly_platform_version",
  processGroup: "fly_process_group",
  releaseVersion: "fly_release_version",
  releaseId: "fly_release_id",
  flyctlVersion: "fly_flyctl_version",
  configDigest: "flightdeck_config_digest",
  secretsVersion: "flightdeck_secrets_version",
  /**
   * The fleet size the last deploy or scale aimed for. Fly has no app-level "desired count" (flyctl's
   * `scale count` only creates/destroys machines), so it lives on the machines, where `deploy` reads it back.
   */
  fleetSize: "flightdeck_fleet_size",
} as const;

export const RELEASE_COMMAND_GROUP = "fly_app_release_command";
export const DEFAULT_PROCESS_GROUP = "app";

/** Metadata that differs per release or per machine: not part of what a machine "is", so not in the digest. */
export const VOLATILE_METADATA_KEYS: readonly string[] = [
  METADATA.releaseVersion,
  METADATA.releaseId,
  METADATA.flyctlVersion,
  METADATA.configDigest,
  METADATA.secretsVersion,
  METADATA.fleetSize,
];

export type BuildOptions = {
  image: string;
  releaseVersion: number | string;
  processGroup?: string;
  /**
   * Sets env APP_VERSION. Must depend on the image only (e.g. its tag or digest): env is part of the
   * config digest, so a per-deploy value would make every deploy update every machine.
   */
  appVersion?: string;
  /** The machine's volume; when absent, `mounts[0].volume` is left out and apply.ts fills it per machine. */
  volumeId?: string;
  /** The app secrets version the machine is created/updated with (also sent as `min_secrets_version`). */
  secretsVersion?: number;
  /** metadata flightdeck_fleet_size: the machine count this deploy or scale aims for. */
  fleetSize?: number;
  extraMetadata?: Record<string, string>;
};

function toGuest(g: Guest): S["fly.MachineGuest"] {
  return { cpu_kind: g.cpuKind, cpus: g.cpus, memory_mb: g.memoryMb };
}

function durations(c: HttpCheck): Pick<S["fly.MachineServiceCheck"], "interval" | "timeout" | "grace_period"> {
  const out: Pick<S["fly.MachineServiceCheck"], "interval" | "timeout" | "grace_period"> = {};
  if (c.intervalMs !== undefined) out.interval = formatGoDuration(c.intervalMs);
  if (c.timeoutMs !== undefined) out.timeout = formatGoDuration(c.timeoutMs);
  if (c.gracePeriodMs !== undefined) out.grace_period = formatGoDuration(c.gracePeriodMs);
  return out;
}

function httpCheckFields(c: HttpCheck): S["fly.MachineServiceCheck"] {
  const out: S["fly.MachineServiceCheck"] = durations(c);
  if (c.method !== undefined) out.method = c.method;
  if (c.path !== undefined) out.path = c.path;
  if (c.protocol !== undefined) out.protocol = c.protocol;
  if (c.tlsSkipVerify !== undefined) out.tls_skip_verify = c.tlsSkipVerify;
  if (c.tlsServerName !== undefined) out.tls_server_name = c.tlsServerName;
  // flyctl: each fly.toml header becomes {name, values: [value]}; sorted so the digest is stable.
  if (c.headers && Object.keys(c.headers).length > 0) {
    out.headers = Object.keys(c.headers).sort().map((name) => ({ name, values: [c.headers?.[name] ?? ""] }));
  }
  return out;
}

/** `[http_service]` -> one tcp service on 80 (http, force_https) and 443 (http + tls): flyctl `HTTPService.ToService`. */
function httpService(cfg: DeployConfig): S["fly.MachineService"][] | undefined {
  const h = cfg.httpService;
  if (!h) return undefined;
  const port80: S["fly.MachinePort"] = { port: 80, handlers: ["http"] };
  if (h.forceHttps) port80.force_https = true;
  const service: S["fly.MachineService"] = {
    protocol: "tcp",
    internal_port: h.internalPort,
    ports: [port80, { port: 443, handlers: ["http", "tls"] }],
  };
  if (h.autoStopMachines !== undefined) service.autostop = h.autoStopMachines;
  if (h.autoStartMachines !== undefined) service.autostart = h.autoStartMachines;
  if (h.minMachinesRunning !== undefined) service.min_machines_running = h.minMachinesRunning;
  if (h.concurrency) {
    const c: S["fly.MachineServiceConcurrency"] = {};
    if (h.concurrency.type !== undefined) c.type = h.concurrency.type;
    if (h.concurrency.softLimit !== undefined) c.soft_limit = h.concurrency.softLimit;
    if (h.concurrency.hardLimit !== undefined) c.hard_limit = h.concurrency.hardLimit;
    service.concurrency = c;
  }
  // Service checks carry no port: the proxy checks internal_port.
  if (h.checks.length > 0) service.checks = h.checks.map((c) => ({ type: "http", ...httpCheckFields(c) }));
  return [service];
}

function topLevelChecks(cfg: DeployConfig): MachineConfig["checks"] {
  const names = Object.keys(cfg.checks).sort();
  if (names.length === 0) return undefined;
  const out: NonNullable<MachineConfig["checks"]> = {};
  for (const name of names) {
    const c = cfg.checks[name];
    if (!c) continue;
    const check: S["fly.MachineCheck"] = { type: c.type, ...httpCheckFields(c) };
    // flyctl: a top-level check without a port takes http_service.internal_port (flytoml.ts ensures one exists).
    const port = c.port ?? cfg.httpService?.internalPort;
    if (port !== undefined) check.port = port;
    out[name] = check;
  }
  return out;
}

function stopConfig(cfg: DeployConfig): S["fly.StopConfig"] | undefined {
  if (cfg.killSignal === undefined && cfg.killTimeoutMs === undefined) return undefined;
  const out: S["fly.StopConfig"] = {};
  if (cfg.killSignal !== undefined) out.signal = cfg.killSignal;
  if (cfg.killTimeoutMs !== undefined) out.timeout = formatGoDuration(cfg.killTimeoutMs);
  return out;
}

function guestFor(cfg: DeployConfig, fallbackSize: string): S["fly.MachineGuest"] {
  return toGuest(cfg.vm?.guest ?? (VM_PRESETS[fallbackSize] as Guest));
}

/** The config of one app machine (process group `app` by default). */
export function buildMachineConfig(cfg: DeployConfig, opts: BuildOptions): MachineConfig {
  const group = opts.processGroup ?? DEFAULT_PROCESS_GROUP;
  const env: Record<string, string> = { ...cfg.env, FLY_PROCESS_GROUP: group, PRIMARY_REGION: cfg.primaryRegion };
  if (opts.appVersion !== undefined) env.APP_VERSION = opts.appVersion;
  const config: MachineConfig = {
    image: opts.image,
    init: {},
    env,
    guest: guestFor(cfg, DEFAULT_VM_SIZE),
    metadata: {
      ...opts.extraMetadata,
      [METADATA.platformVersion]: "v2",
      [METADATA.processGroup]: group,
      [METADATA.releaseVersion]: String(opts.releaseVersion),
    },
  };
  const services = httpService(cfg);
  if (services) config.services = services;
  const checks = topLevelChecks(cfg);
  if (checks) config.checks = checks;
  if (cfg.mount) {
    const mount: S["fly.MachineMount"] = { name: cfg.mount.source, path: cfg.mount.destination };
    if (opts.volumeId !== undefined) mount.volume = opts.volumeId;
    config.mounts = [mount];
  }
  const stop = stopConfig(cfg);
  if (stop) config.stop_config = stop;
  if (cfg.restart) {
    // fly.toml says "never"; the API says "no".
    const restart: S["fly.MachineRestart"] = { policy: cfg.restart.policy === "never" ? "no" : cfg.restart.policy };
    if (cfg.restart.retries !== undefined) restart.max_retries = cfg.restart.retries;
    config.restart = restart;
  }
  if (cfg.metrics) config.metrics = { ...cfg.metrics };
  if (opts.secretsVersion !== undefined) (config.metadata as Record<string, string>)[METADATA.secretsVersion] = String(opts.secretsVersion);
  if (opts.fleetSize !== undefined) (config.metadata as Record<string, string>)[METADATA.fleetSize] = String(opts.fleetSize);
  (config.metadata as Record<string, string>)[METADATA.configDigest] = configDigest(config);
  return config;
}

export class MissingReleaseCommandError extends Error {
  readonly code = "release_command_missing";
  constructor() {
    super("fly.toml has no [deploy] release_command; check cfg.deploy.releaseCommand before building a release machine");
  }
}

/**
 * The ephemeral machine that runs `[deploy] release_command` (flyctl `ToReleaseMachineConfig`): no services, no
 * mounts (it cannot see the volume), no checks, destroys itself on exit and is never restarted. flyctl sizes it from
 * `release_command_vm` or the biggest app machine, else shared-cpu-2x; we use `[[vm]]`, else shared-cpu-2x.
 */
export function buildReleaseMachineConfig(cfg: DeployConfig, opts: { image: string; releaseVersion: number | string }): MachineConfig {
  const cmd = cfg.deploy.releaseCommand === undefined ? null : splitCommand(cfg.deploy.releaseCommand);
  if (!cmd || cmd.length === 0) throw new MissingReleaseCommandError();
  const config: MachineConfig = {
    image: opts.image,
    init: { cmd },
    env: { ...cfg.env, RELEASE_COMMAND: "1", FLY_PROCESS_GROUP: RELEASE_COMMAND_GROUP, PRIMARY_REGION: cfg.primaryRegion },
    guest: guestFor(cfg, "shared-cpu-2x"),
    restart: { policy: "no" },
    auto_destroy: true,
    dns: { skip_registration: true },
    metadata: {
      [METADATA.platformVersion]: "v2",
      [METADATA.processGroup]: RELEASE_COMMAND_GROUP,
      [METADATA.releaseVersion]: String(opts.releaseVersion),
    },
  };
  const stop = stopConfig(cfg);
  if (stop) config.stop_config = stop;
  return config;
}

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[key];
      if (v !== undefined) out[key] = canonical(v);
    }
    return out;
  }
  return value;
}

/**
 * sha256 (hex) of the canonical JSON (sorted keys) of what a machine should be, leaving out what varies per
 * release or per machine: the image (compared on its own so a plan can say "image changed"), release/secrets
 * metadata, the digest itself, and volume IDs. Stored in metadata `flightdeck_config_digest`.
 */
export function configDigest(config: MachineConfig): string {
  const { image: _image, ...rest } = config;
  const metadata: Record<string, string> = {};
  for (const [k, v] of Object.entries(config.metadata ?? {})) if (!VOLATILE_METADATA_KEYS.includes(k)) metadata[k] = v;
  const mounts = config.mounts?.map(({ volume: _volume, ...m }) => m);
  const stripped = { ...rest, metadata, mounts };
  return new Bun.CryptoHasher("sha256").update(JSON.stringify(canonical(stripped))).digest("hex");
}
