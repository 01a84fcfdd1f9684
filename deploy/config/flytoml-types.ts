// What fly.toml says, as flightdeck reads it: the whole file (every process group), in flyctl's terms
// (internal/appconfig/config.go). Sections that flyctl scopes with `processes = [...]` keep that list here;
// flytoml-groups.ts flattens them into one group's view, which machine-config.ts turns into a machine config.

import type { Guest } from "./vm-sizes.ts";

export const STRATEGIES = ["rolling", "immediate", "bluegreen", "canary"] as const;
export type Strategy = (typeof STRATEGIES)[number];
export const STOP_SIGNALS = ["SIGHUP", "SIGINT", "SIGQUIT", "SIGKILL", "SIGUSR1", "SIGUSR2", "SIGTERM"] as const;
export type StopSignal = (typeof STOP_SIGNALS)[number];
export type AutoStop = "off" | "stop" | "suspend";

/** `processes = [...]` on a section; empty = the default group (flyctl `flattenGroupsMatch`). */
type Scoped = { processes: string[] };

export type HttpCheck = {
  gracePeriodMs?: number;
  intervalMs?: number;
  timeoutMs?: number;
  method?: string;
  path?: string;
  protocol?: string;
  tlsSkipVerify?: boolean;
  tlsServerName?: string;
  headers?: Record<string, string>;
};
export type TopLevelCheck = HttpCheck & { type: "http" | "tcp"; port?: number };
export type ServiceCheck = HttpCheck & { type: "http" | "tcp" };

export type Concurrency = { type?: string; softLimit?: number; hardLimit?: number };

/** fly-go TLSOptions / HTTPOptions / ProxyProtoOptions: passed to the API as written (snake_case JSON). */
export type PortOptions = Record<string, unknown>;

export type ServicePort = {
  port?: number;
  startPort?: number;
  endPort?: number;
  handlers?: string[];
  forceHttps?: boolean;
  tlsOptions?: PortOptions;
  httpOptions?: PortOptions;
  proxyProtoOptions?: PortOptions;
};

/** One `[[services]]` entry, or `[http_service]` expanded (flyctl `HTTPService.ToService`). */
export type Service = Scoped & {
  protocol?: string;
  internalPort?: number;
  autoStopMachines?: AutoStop;
  autoStartMachines?: boolean;
  minMachinesRunning?: number;
  ports: ServicePort[];
  concurrency?: Concurrency;
  checks: ServiceCheck[];
};

export type HttpService = Scoped & {
  internalPort: number;
  forceHttps: boolean;
  autoStopMachines?: AutoStop;
  autoStartMachines?: boolean;
  minMachinesRunning?: number;
  concurrency?: Concurrency;
  tlsOptions?: PortOptions;
  httpOptions?: PortOptions;
  checks: HttpCheck[];
};

export type DeploySettings = {
  releaseCommand?: string;
  strategy: Strategy;
  /** < 1: fraction of started machines updated at once; >= 1: a count (flyctl `max_unavailable`). */
  maxUnavailable: number;
  waitTimeoutMs: number;
  releaseCommandTimeoutMs: number;
  /** `release_command_vm`: the release machine's guest (flyctl `ToReleaseMachineConfig`). */
  releaseCommandVm?: Guest;
};

/** Keys that need a Docker daemon or a buildpack builder: Flightdeck deploys an image it is given. */
export type BuildSettings = {
  image?: string;
  dockerfile?: string;
  ignorefile?: string;
  buildTarget?: string;
  builder?: string;
  buildpacks?: string[];
  args?: Record<string, string>;
};

export type MountSpec = Scoped & {
  source: string;
  destination: string;
  initialSizeGb: number;
  /** Whether `initial_size` was written (else 1 GB, or 100 GB for a GPU guest as in flyctl). */
  initialSizeSet: boolean;
  snapshotRetention?: number;
  scheduledSnapshots?: boolean;
  /** flyctl's `[mounts]` has no `encrypted`; the Machines API volume field is honoured when written. */
  encrypted?: boolean;
  autoExtend?: { thresholdPercent: number; incrementGb: number; limitGb?: number };
};

export type VmSpec = Scoped & { size: string; guest: Guest };

export type RestartSpec = Scoped & { policy: "always" | "never" | "on-failure"; retries?: number };

export type MetricsSpec = Scoped & { port: number; path: string; https?: boolean };

export type StaticSpec = { guestPath: string; urlPrefix: string; tigrisBucket?: string; indexDocument?: string };

/** `[[files]]`: raw_value (plain text, base64-encoded on the wire by flyctl), secret_name, or local_path (read at load). */
export type FileSpec = Scoped & { guestPath: string; rawValueBase64?: string; secretName?: string };

export type Experimental = {
  cmd?: string[];
  entrypoint?: string[];
  exec?: string[];
  /** `[experimental] machine_config` or top-level `machine_config`: a machine config merged under fly.toml's fields. */
  machineConfig?: Record<string, unknown>;
};

export type DeployConfig = {
  /** "" when the file has none (flyctl reads such files and asks for -a); commands refuse it (requireApp). */
  app: string;
  /** Absent: existing machines keep their regions; a first deploy needs --region. */
  primaryRegion?: string;
  killSignal?: StopSignal;
  killTimeoutMs?: number;
  swapSizeMb?: number;
  /** The command `exec` runs by default (flyctl `console_command`). */
  consoleCommand?: string;
  hostDedicationId?: string;
  build: BuildSettings;
  deploy: DeploySettings;
  env: Record<string, string>;
  experimental: Experimental;
  /** `[processes]`: group -> command; {} when the file has none (one group, "app", running the image CMD). */
  processes: Record<string, string>;
  httpService?: HttpService;
  services: Service[];
  checks: Record<string, TopLevelCheck & Scoped>;
  mounts: MountSpec[];
  vms: VmSpec[];
  restarts: RestartSpec[];
  metrics: MetricsSpec[];
  statics: StaticSpec[];
  files: FileSpec[];
};
