// DeployConfig + process group + image + release -> the Machines API `fly.MachineConfig`, the way flyctl's
// `Config.ToMachineConfig(group)` / `ToReleaseMachineConfig` build it (internal/appconfig/machines.go, service.go,
// processgroups.go). Pure: no I/O; apply.ts sends the result.
//
// Differences from flyctl, on purpose:
// - We always build the whole config (never merge into the live one), so with no `[[vm]]` for the group the guest
//   is the shared-cpu-1x preset (or machine_config's guest) rather than "whatever the machine had".
// - `autostop` is sent as the spec's string enum ("stop"/"off"/"suspend"); flyctl sends true/false, which the API
//   also accepts. Responses may come back as booleans: comparisons use the digest below, not the live fields.
// - Check headers are sorted by name (flyctl's order follows Go map iteration), so the digest is stable.
// - No `fly_flyctl_version` metadata: Flightdeck is not flyctl.

import type { components } from "../../lib/fly/openapi.ts";
import { formatGoDuration } from "../config/durations.ts";
import {
  type DeployConfig,
  type HttpCheck,
  type HttpService,
  type Service,
  type ServicePort,
  splitCommand,
} from "../config/flytoml.ts";
import { DEFAULT_PROCESS_GROUP, type GroupConfig, defaultProcessName, groupConfig } from "../config/flytoml-groups.ts";
import { DEFAULT_VM_SIZE, type Guest, VM_PRESETS } from "../config/vm-sizes.ts";

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
  /** Every process group's size ("app=5,worker=0"), so a group scaled to 0 is remembered by the others' machines. */
  groupSizes: "flightdeck_group_sizes",
  /**
   * Set on a machine while a Flightdeck run holds it cordoned (rollout.ts cordonMachine): how the next run tells
   * a cordon an interrupted deploy left (undone) from one a person made (left alone). Metadata writes make no
   * new machine version and no restart (fly-machines-api.md §5.7).
   */
  deployCordon: "flightdeck_cordon",
} as const;

/** "app=5,worker=0": the flightdeck_group_sizes metadata value, sorted so equal maps compare equal. */
export function formatGroupSizes(sizes: Record<string, number>): string {
  return Object.keys(sizes)
    .sort()
    .map((g) => `${g}=${sizes[g]}`)
    .join(",");
}

/** The inverse of formatGroupSizes; malformed entries are dropped (hand-edited metadata is not ours). */
export function parseGroupSizes(value: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const part of value.split(",")) {
    const m = /^([A-Za-z0-9_-]+)=(\d+)$/.exec(part.trim());
    if (m) out[m[1] as string] = Number(m[2]);
  }
  return out;
}

export const RELEASE_COMMAND_GROUP = "fly_app_release_command";
export { DEFAULT_PROCESS_GROUP };

/** Metadata that differs per release or per machine: not part of what a machine "is", so not in the digest. */
export const VOLATILE_METADATA_KEYS: readonly string[] = [
  METADATA.releaseVersion,
  METADATA.releaseId,
  METADATA.flyctlVersion,
  METADATA.configDigest,
  METADATA.secretsVersion,
  METADATA.fleetSize,
  METADATA.groupSizes,
  METADATA.deployCordon,
  "flightdeck_launch_id", // launch-id.ts LAUNCH_ID_KEY (test/deploy/machine/launch-id.test.ts holds them equal)
];

export type BuildOptions = {
  image: string;
  releaseVersion: number | string;
  /** The process group (flyctl `ToMachineConfig(group)`); default: the config's default group. */
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
  /** metadata flightdeck_group_sizes: every group's count, when fly.toml has several groups. */
  groupSizes?: Record<string, number>;
  extraMetadata?: Record<string, string>;
};

export function toGuest(g: Guest): S["fly.MachineGuest"] {
  const out: S["fly.MachineGuest"] = { cpu_kind: g.cpuKind, cpus: g.cpus, memory_mb: g.memoryMb };
  if (g.gpuKind !== undefined) out.gpu_kind = g.gpuKind;
  if (g.gpus !== undefined) out.gpus = g.gpus;
  if (g.hostDedicationId !== undefined) out.host_dedication_id = g.hostDedicationId;
  if (g.kernelArgs !== undefined) out.kernel_args = [...g.kernelArgs];
  if (g.persistRootfs !== undefined) out.persist_rootfs = g.persistRootfs;
  return out;
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
  // flyctl: each fly.toml header becomes {name, values: [value]}.
  if (c.headers && Object.keys(c.headers).length > 0) {
    out.headers = Object.keys(c.headers)
      .sort()
      .map((name) => ({ name, values: [c.headers?.[name] ?? ""] }));
  }
  return out;
}

type WireOptions = Record<string, never>;

function toPort(p: ServicePort): S["fly.MachinePort"] {
  const out: S["fly.MachinePort"] = {};
  if (p.port !== undefined) out.port = p.port;
  if (p.startPort !== undefined) out.start_port = p.startPort;
  if (p.endPort !== undefined) out.end_port = p.endPort;
  if (p.handlers !== undefined) out.handlers = [...p.handlers];
  if (p.forceHttps) out.force_https = true;
  // Passed through as written: fly-go's TLSOptions / HTTPOptions / ProxyProtoOptions use the TOML key names on the wire.
  if (p.tlsOptions) out.tls_options = structuredClone(p.tlsOptions) as WireOptions;
  if (p.httpOptions) out.http_options = structuredClone(p.httpOptions) as WireOptions;
  if (p.proxyProtoOptions) out.proxy_proto_options = structuredClone(p.proxyProtoOptions) as WireOptions;
  return out;
}

/** flyctl `HTTPService.ToService`: one tcp service on 80 (http, force_https) and 443 (http + tls). */
export function expandHttpService(h: HttpService): Service {
  const port80: ServicePort = { port: 80, handlers: ["http"] };
  if (h.forceHttps) port80.forceHttps = true;
  const port443: ServicePort = { port: 443, handlers: ["http", "tls"] };
  if (h.httpOptions) {
    port80.httpOptions = h.httpOptions;
    port443.httpOptions = h.httpOptions;
  }
  if (h.tlsOptions) port443.tlsOptions = h.tlsOptions;
  const s: Service = {
    protocol: "tcp",
    internalPort: h.internalPort,
    processes: h.processes,
    ports: [port80, port443],
    checks: h.checks.map((c) => ({ type: "http", ...c })),
  };
  if (h.autoStopMachines !== undefined) s.autoStopMachines = h.autoStopMachines;
  if (h.autoStartMachines !== undefined) s.autoStartMachines = h.autoStartMachines;
  if (h.minMachinesRunning !== undefined) s.minMachinesRunning = h.minMachinesRunning;
  if (h.concurrency) s.concurrency = h.concurrency;
  return s;
}

/** flyctl `Service.toMachineService`: tcp checks first, then http checks; service checks carry no port. */
function toService(s: Service): S["fly.MachineService"] {
  const out: S["fly.MachineService"] = {};
  if (s.protocol !== undefined) out.protocol = s.protocol;
  if (s.internalPort !== undefined) out.internal_port = s.internalPort;
  if (s.ports.length > 0) out.ports = s.ports.map(toPort);
  if (s.autoStopMachines !== undefined) out.autostop = s.autoStopMachines;
  if (s.autoStartMachines !== undefined) out.autostart = s.autoStartMachines;
  if (s.minMachinesRunning !== undefined) out.min_machines_running = s.minMachinesRunning;
  if (s.concurrency) {
    const c: S["fly.MachineServiceConcurrency"] = {};
    if (s.concurrency.type !== undefined) c.type = s.concurrency.type;
    if (s.concurrency.softLimit !== undefined) c.soft_limit = s.concurrency.softLimit;
    if (s.concurrency.hardLimit !== undefined) c.hard_limit = s.concurrency.hardLimit;
    out.concurrency = c;
  }
  const checks = [...s.checks.filter((c) => c.type === "tcp"), ...s.checks.filter((c) => c.type === "http")];
  if (checks.length > 0) out.checks = checks.map(({ type, ...c }) => ({ type, ...httpCheckFields(c) }));
  return out;
}

/** `[http_service]` first, then the group's `[[services]]` (flyctl `AllServices`). */
export function groupServices(g: GroupConfig): Service[] {
  return [...(g.httpService ? [expandHttpService(g.httpService)] : []), ...g.services];
}

function topLevelChecks(g: GroupConfig): MachineConfig["checks"] {
  const names = Object.keys(g.checks).sort();
  if (names.length === 0) return undefined;
  const out: NonNullable<MachineConfig["checks"]> = {};
  for (const name of names) {
    const c = g.checks[name];
    if (!c) continue;
    const check: S["fly.MachineCheck"] = { type: c.type, ...httpCheckFields(c) };
    // flyctl: a top-level check without a port takes the group's http_service.internal_port (groupProblems ensures one).
    const port = c.port ?? g.httpService?.internalPort;
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

function files(g: GroupConfig): MachineConfig["files"] {
  if (g.files.length === 0) return undefined;
  return g.files.map((f) => {
    const file: S["fly.File"] = { guest_path: f.guestPath };
    if (f.rawValueBase64 !== undefined) file.raw_value = f.rawValueBase64;
    if (f.secretName !== undefined) file.secret_name = f.secretName;
    return file;
  });
}

/**
 * The guest a group's machines get: its [[vm]], else machine_config's guest, else shared-cpu-1x (with the top-level
 * host_dedication_id). flyctl leaves the guest untouched without a [[vm]]; we always send a whole config.
 */
export function groupGuest(cfg: DeployConfig, group?: string): S["fly.MachineGuest"] {
  const g = groupConfig(cfg, group);
  if (g.vm) return toGuest(g.vm.guest);
  const base = cfg.experimental.machineConfig?.guest;
  if (base && typeof base === "object") return structuredClone(base) as S["fly.MachineGuest"];
  const preset = { ...(VM_PRESETS[DEFAULT_VM_SIZE] as Guest) };
  if (cfg.hostDedicationId !== undefined) preset.hostDedicationId = cfg.hostDedicationId;
  return toGuest(preset);
}

/**
 * The volume fields of `POST /volumes` that fly.toml decides for a group's mount: encrypted unless `encrypted = false`,
 * the guest (so Fly places the volume where such a machine fits), snapshot retention and scheduled snapshots.
 */
export function volumeSettings(
  cfg: DeployConfig,
  group?: string,
): Pick<S["CreateVolumeRequest"], "encrypted" | "compute" | "snapshot_retention" | "auto_backup_enabled"> {
  const g = groupConfig(cfg, group);
  const out: Pick<S["CreateVolumeRequest"], "encrypted" | "compute" | "snapshot_retention" | "auto_backup_enabled"> = {
    encrypted: g.mount?.encrypted ?? true,
    compute: groupGuest(cfg, group),
  };
  if (g.mount?.snapshotRetention !== undefined) out.snapshot_retention = g.mount.snapshotRetention;
  if (g.mount?.scheduledSnapshots !== undefined) out.auto_backup_enabled = g.mount.scheduledSnapshots;
  return out;
}

/** The config of one machine of a process group (flyctl `updateMachineConfig` on an empty machine). */
export function buildMachineConfig(cfg: DeployConfig, opts: BuildOptions): MachineConfig {
  const group = opts.processGroup ?? defaultProcessName(cfg);
  const g = groupConfig(cfg, group);
  // [experimental] machine_config is the base; fly.toml's own fields replace what they manage.
  const config: MachineConfig = structuredClone((cfg.experimental.machineConfig ?? {}) as MachineConfig);
  config.image = opts.image;

  const init: S["fly.MachineInit"] = { ...config.init };
  delete init.cmd;
  delete init.entrypoint;
  delete init.exec;
  delete init.swap_size_mb;
  const cmd = g.cmd ?? cfg.experimental.cmd;
  if (cmd) init.cmd = [...cmd];
  if (cfg.experimental.entrypoint) init.entrypoint = [...cfg.experimental.entrypoint];
  if (cfg.experimental.exec) init.exec = [...cfg.experimental.exec];
  if (cfg.swapSizeMb !== undefined) init.swap_size_mb = cfg.swapSizeMb;
  config.init = init;

  const env: Record<string, string> = { ...cfg.env, FLY_PROCESS_GROUP: group };
  if (cfg.primaryRegion !== undefined) env.PRIMARY_REGION = cfg.primaryRegion;
  if (opts.appVersion !== undefined) env.APP_VERSION = opts.appVersion;
  config.env = env;
  config.guest = groupGuest(cfg, group);
  config.metadata = {
    ...config.metadata,
    ...opts.extraMetadata,
    [METADATA.platformVersion]: "v2",
    [METADATA.processGroup]: group,
    [METADATA.releaseVersion]: String(opts.releaseVersion),
  };

  const services = groupServices(g);
  if (services.length > 0) config.services = services.map(toService);
  else delete config.services;
  const checks = topLevelChecks(g);
  if (checks) config.checks = checks;
  else delete config.checks;
  if (g.mount) {
    const mount: S["fly.MachineMount"] = { name: g.mount.source, path: g.mount.destination };
    if (opts.volumeId !== undefined) mount.volume = opts.volumeId;
    if (g.mount.autoExtend) {
      mount.extend_threshold_percent = g.mount.autoExtend.thresholdPercent;
      mount.add_size_gb = g.mount.autoExtend.incrementGb;
      if (g.mount.autoExtend.limitGb !== undefined) mount.size_gb_limit = g.mount.autoExtend.limitGb;
    }
    config.mounts = [mount];
  } else delete config.mounts;
  const stop = stopConfig(cfg);
  if (stop) config.stop_config = stop;
  else delete config.stop_config;
  if (g.restart) {
    // fly.toml says "never"; the API says "no".
    const restart: S["fly.MachineRestart"] = { policy: g.restart.policy === "never" ? "no" : g.restart.policy };
    if (g.restart.retries !== undefined) restart.max_retries = g.restart.retries;
    config.restart = restart;
  } else delete config.restart;
  if (g.metrics) {
    const metrics: S["fly.MachineMetrics"] = { port: g.metrics.port, path: g.metrics.path };
    if (g.metrics.https) metrics.https = true;
    config.metrics = metrics;
  } else delete config.metrics;
  if (cfg.statics.length > 0) {
    config.statics = cfg.statics.map((st) => {
      const out: S["fly.Static"] = { guest_path: st.guestPath, url_prefix: st.urlPrefix };
      if (st.tigrisBucket !== undefined) out.tigris_bucket = st.tigrisBucket;
      if (st.indexDocument !== undefined) out.index_document = st.indexDocument;
      return out;
    });
  } else delete config.statics;
  const machineFiles = files(g);
  if (machineFiles) config.files = machineFiles;
  else delete config.files;

  if (opts.secretsVersion !== undefined) config.metadata[METADATA.secretsVersion] = String(opts.secretsVersion);
  if (opts.fleetSize !== undefined) config.metadata[METADATA.fleetSize] = String(opts.fleetSize);
  if (opts.groupSizes !== undefined) config.metadata[METADATA.groupSizes] = formatGroupSizes(opts.groupSizes);
  config.metadata[METADATA.configDigest] = configDigest(config);
  return config;
}

export class MissingReleaseCommandError extends Error {
  readonly code = "release_command_missing";
  constructor() {
    super(
      "fly.toml has no [deploy] release_command; check cfg.deploy.releaseCommand before building a release machine",
    );
  }
}

/**
 * The ephemeral machine that runs `[deploy] release_command` (flyctl `ToReleaseMachineConfig`): no services, no
 * mounts (it cannot see the volume), no checks, destroys itself on exit and is never restarted. flyctl sizes it from
 * `release_command_vm` or the biggest app machine, else shared-cpu-2x; we use `release_command_vm`, else the
 * default group's `[[vm]]`, else shared-cpu-2x.
 */
export function buildReleaseMachineConfig(
  cfg: DeployConfig,
  opts: { image: string; releaseVersion: number | string },
): MachineConfig {
  const cmd = cfg.deploy.releaseCommand === undefined ? null : splitCommand(cfg.deploy.releaseCommand);
  if (!cmd || cmd.length === 0) throw new MissingReleaseCommandError();
  const env: Record<string, string> = { ...cfg.env, RELEASE_COMMAND: "1", FLY_PROCESS_GROUP: RELEASE_COMMAND_GROUP };
  if (cfg.primaryRegion !== undefined) env.PRIMARY_REGION = cfg.primaryRegion;
  const init: S["fly.MachineInit"] = { cmd };
  if (cfg.experimental.entrypoint) init.entrypoint = [...cfg.experimental.entrypoint];
  if (cfg.swapSizeMb !== undefined) init.swap_size_mb = cfg.swapSizeMb;
  const vm = cfg.deploy.releaseCommandVm ?? groupConfig(cfg).vm?.guest;
  const config: MachineConfig = {
    image: opts.image,
    init,
    env,
    guest: toGuest(vm ?? (VM_PRESETS["shared-cpu-2x"] as Guest)),
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
  const releaseFiles = files(groupConfig(cfg));
  if (releaseFiles) config.files = releaseFiles;
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
