// The process-scoped list sections of fly.toml: [[mounts]], [[vm]] / [[compute]], [[restart]], [[metrics]],
// [[files]], and [[statics]]. flyctl (patches.go) accepts each as `[x]` or `[[x]]`, plus the aliases [mount],
// [compute], [[computes]] and [metric]; memory and initial_size may be numbers or strings.

import { readFileSync } from "node:fs";
import { isAbsolute, join } from "node:path";
import { type Reader, type Table, joinPath } from "./config-reader.ts";
import { readProcesses } from "./flytoml-services.ts";
import type { FileSpec, MetricsSpec, MountSpec, RestartSpec, StaticSpec, VmSpec } from "./flytoml-types.ts";
import {
  DEFAULT_GPU_VM_SIZE,
  DEFAULT_VM_SIZE,
  type Guest,
  VM_PRESETS,
  guestProblems,
  parseMemoryMb,
  parseVolumeSizeGb,
} from "./vm-sizes.ts";

export const DEFAULT_VOLUME_SIZE_GB = 1;
/** flyctl deploy: a volume for a GPU machine starts at 100 GB (internal/command/deploy/machines.go). */
export const DEFAULT_GPU_VOLUME_SIZE_GB = 100;
const VOLUME_NAME = /^[a-z0-9_]{1,30}$/;

/** Entries of every alias of a list section, in flyctl's order (`patchMounts` / `patchCompute` / `patchMetrics`). */
export function aliasEntries(r: Reader, t: Table, keys: readonly string[]): { path: string; value: unknown }[] {
  return keys.flatMap((k) => r.tables(k, t[k]));
}

function sizeGb(r: Reader, path: string, value: unknown, what: string): number | undefined {
  if (value === undefined) return undefined;
  const size = typeof value === "string" || typeof value === "number" ? parseVolumeSizeGb(value) : null;
  if (size === null || size < 1) {
    // flyctl validation.go `validateMounts`: unparseable or under 1 GB.
    r.problem(path, `${JSON.stringify(value)} is not a ${what} of at least 1GB; use whole GB such as 10 or "10gb"`);
    return undefined;
  }
  return size;
}

export function readMount(r: Reader, entry: { path: string; value: unknown }): MountSpec | undefined {
  const p = (k: string) => joinPath(entry.path, k);
  const t = r.table(entry.path, entry.value, [
    "source",
    "destination",
    "initial_size",
    "snapshot_retention",
    "scheduled_snapshots",
    "encrypted",
    "processes",
    "auto_extend_size_threshold",
    "auto_extend_size_increment",
    "auto_extend_size_limit",
  ]);
  if (!t) return undefined;
  const source = r.required(
    p("source"),
    r.string(p("source"), t.source, {
      pattern: VOLUME_NAME,
      rule: "volume names use lowercase letters, digits and _ (at most 30)",
    }),
    t.source,
    "the volume name",
  );
  const destination = r.required(
    p("destination"),
    r.string(p("destination"), t.destination, { pattern: /^\/./, rule: "an absolute path inside the machine" }),
    t.destination,
    "the mount path, e.g. /app/media",
  );
  const initial = sizeGb(r, p("initial_size"), t.initial_size, "size");
  const retention = r.integer(p("snapshot_retention"), t.snapshot_retention);
  if (retention !== undefined && (retention < 1 || retention > 60))
    r.problem(p("snapshot_retention"), `${retention} is not between 1 and 60 days (flyctl validation)`);
  const scheduled = r.bool(p("scheduled_snapshots"), t.scheduled_snapshots);
  const encrypted = r.bool(p("encrypted"), t.encrypted);
  const threshold = r.integer(p("auto_extend_size_threshold"), t.auto_extend_size_threshold);
  const increment = sizeGb(r, p("auto_extend_size_increment"), t.auto_extend_size_increment, "size increment");
  const limit = sizeGb(r, p("auto_extend_size_limit"), t.auto_extend_size_limit, "size limit");
  if (!source || !destination) return undefined;
  const out: MountSpec = {
    source,
    destination,
    initialSizeGb: initial ?? DEFAULT_VOLUME_SIZE_GB,
    initialSizeSet: initial !== undefined,
    processes: readProcesses(r, p("processes"), t.processes),
  };
  if (retention !== undefined) out.snapshotRetention = retention;
  if (scheduled !== undefined) out.scheduledSnapshots = scheduled;
  if (encrypted !== undefined) out.encrypted = encrypted;
  if (threshold !== undefined || increment !== undefined || limit !== undefined) {
    // flyctl validation.go: threshold 50-99, increment 1-100 GB, limit 1-500 GB; threshold needs an increment.
    if (threshold === undefined || threshold < 50 || threshold > 99)
      r.problem(p("auto_extend_size_threshold"), "must be between 50 and 99 when auto-extend is used");
    if (increment === undefined || increment > 100)
      r.problem(p("auto_extend_size_increment"), "must be between 1GB and 100GB when auto-extend is used");
    if (limit !== undefined && limit > 500) r.problem(p("auto_extend_size_limit"), "must be between 1GB and 500GB");
    if (threshold !== undefined && increment !== undefined)
      out.autoExtend = {
        thresholdPercent: threshold,
        incrementGb: increment,
        ...(limit !== undefined ? { limitGb: limit } : {}),
      };
  }
  return out;
}

/**
 * flyctl `computeToGuest`: the preset (`size`, else performance-8x when a gpu_kind is given, else shared-cpu-1x),
 * then `memory`, then every inline fly.MachineGuest field that is set.
 */
export function readVm(
  r: Reader,
  entry: { path: string; value: unknown },
  hostDedicationId?: string,
): VmSpec | undefined {
  const p = (k: string) => joinPath(entry.path, k);
  const t = r.table(
    entry.path,
    entry.value,
    [
      "size",
      "memory",
      "memory_mb",
      "cpus",
      "cpu_kind",
      "gpus",
      "gpu_kind",
      "kernel_args",
      "host_dedication_id",
      "persist_rootfs",
      "processes",
    ],
    {
      max_memory_mb: "memory ballooning is not configured from fly.toml",
    },
  );
  if (!t) return undefined;
  const size = r.oneOf(
    p("size"),
    t.size ?? (t.gpu_kind !== undefined ? DEFAULT_GPU_VM_SIZE : DEFAULT_VM_SIZE),
    Object.keys(VM_PRESETS),
  );
  if (!size) return undefined;
  const guest: Guest = { ...(VM_PRESETS[size] as Guest) };
  if (hostDedicationId !== undefined) guest.hostDedicationId = hostDedicationId;
  if (t.memory !== undefined) {
    const mb = typeof t.memory === "string" || typeof t.memory === "number" ? parseMemoryMb(t.memory) : null;
    if (mb === null)
      r.problem(
        p("memory"),
        `${JSON.stringify(t.memory)} is not a memory size; use "512mb", "1gb" or MB as an integer`,
      );
    else guest.memoryMb = mb;
  }
  const memoryMb = r.integer(p("memory_mb"), t.memory_mb, { min: 256 });
  if (memoryMb !== undefined) guest.memoryMb = memoryMb;
  const cpus = r.integer(p("cpus"), t.cpus, { min: 1, max: 16 });
  if (cpus !== undefined) guest.cpus = cpus;
  const kind = r.oneOf(p("cpu_kind"), t.cpu_kind, ["shared", "performance"] as const);
  if (kind) guest.cpuKind = kind;
  const gpus = r.integer(p("gpus"), t.gpus, { min: 1 });
  if (gpus !== undefined) guest.gpus = gpus;
  const gpuKind = r.string(p("gpu_kind"), t.gpu_kind);
  if (gpuKind) guest.gpuKind = gpuKind;
  const kernelArgs = r.stringArray(p("kernel_args"), t.kernel_args);
  if (kernelArgs && kernelArgs.length > 0) guest.kernelArgs = kernelArgs;
  const hdid = r.string(p("host_dedication_id"), t.host_dedication_id);
  if (hdid) guest.hostDedicationId = hdid;
  const persist = r.oneOf(p("persist_rootfs"), t.persist_rootfs, ["never", "always", "restart"] as const);
  if (persist) guest.persistRootfs = persist;
  for (const problem of guestProblems(guest)) r.problem(entry.path, problem);
  return { size, guest, processes: readProcesses(r, p("processes"), t.processes) };
}

export function readRestart(r: Reader, entry: { path: string; value: unknown }): RestartSpec | undefined {
  const p = (k: string) => joinPath(entry.path, k);
  const t = r.table(entry.path, entry.value, ["policy", "retries", "processes"]);
  if (!t) return undefined;
  const policy = r.required(
    p("policy"),
    r.oneOf(p("policy"), t.policy, ["always", "never", "on-failure"] as const),
    t.policy,
    '"always", "never" or "on-failure"',
  );
  const retries = r.integer(p("retries"), t.retries, { min: 0 });
  if (!policy) return undefined;
  const out: RestartSpec = { policy, processes: readProcesses(r, p("processes"), t.processes) };
  if (retries !== undefined && retries > 0) out.retries = retries;
  return out;
}

export function readMetrics(r: Reader, entry: { path: string; value: unknown }): MetricsSpec | undefined {
  const p = (k: string) => joinPath(entry.path, k);
  const t = r.table(entry.path, entry.value, ["port", "path", "https", "processes"]);
  if (!t) return undefined;
  const port = r.required(p("port"), r.intLike(p("port"), t.port, { min: 1, max: 65535 }), t.port, "the metrics port");
  const path = r.required(
    p("path"),
    r.string(p("path"), t.path, { pattern: /^\//, rule: "must start with /" }),
    t.path,
    "the metrics path, e.g. /metrics",
  );
  const https = r.bool(p("https"), t.https);
  if (port === undefined || path === undefined) return undefined;
  const out: MetricsSpec = { port, path, processes: readProcesses(r, p("processes"), t.processes) };
  if (https) out.https = true;
  return out;
}

/**
 * `[[statics]]`: served by the Fly proxy from the image (guest_path) or a Tigris bucket. flyctl uploads a relative
 * guest_path to Tigris itself during deploy; Flightdeck does not, so it asks for an absolute path or a bucket.
 */
export function readStatic(r: Reader, entry: { path: string; value: unknown }): StaticSpec | undefined {
  const p = (k: string) => joinPath(entry.path, k);
  const t = r.table(entry.path, entry.value, ["guest_path", "url_prefix", "tigris_bucket", "index_document"]);
  if (!t) return undefined;
  const guestPath = r.required(
    p("guest_path"),
    r.string(p("guest_path"), t.guest_path),
    t.guest_path,
    "the directory in the image to serve",
  );
  const urlPrefix = r.required(
    p("url_prefix"),
    r.string(p("url_prefix"), t.url_prefix, { pattern: /^\//, rule: "must start with /" }),
    t.url_prefix,
    "the URL prefix, e.g. /static",
  );
  const bucket = r.string(p("tigris_bucket"), t.tigris_bucket);
  const index = r.string(p("index_document"), t.index_document);
  if (!guestPath || !urlPrefix) return undefined;
  if (!guestPath.startsWith("/") && !bucket) {
    r.problem(
      p("guest_path"),
      "a relative guest_path is uploaded to Tigris by flyctl's deploy, which Flightdeck does not do; use the absolute path inside the image",
    );
  }
  const out: StaticSpec = { guestPath, urlPrefix };
  if (bucket) out.tigrisBucket = bucket;
  if (index) out.indexDocument = index;
  return out;
}

/** `[[files]]` (flyctl `File.toMachineFile`): raw_value is plain text, sent base64; local_path is read now. */
export function readFile(
  r: Reader,
  entry: { path: string; value: unknown },
  dir: string | undefined,
): FileSpec | undefined {
  const p = (k: string) => joinPath(entry.path, k);
  const t = r.table(entry.path, entry.value, ["guest_path", "local_path", "secret_name", "raw_value", "processes"]);
  if (!t) return undefined;
  const guestPath = r.required(
    p("guest_path"),
    r.string(p("guest_path"), t.guest_path, { pattern: /^\//, rule: "an absolute path inside the machine" }),
    t.guest_path,
    "where the file is written",
  );
  const local = r.string(p("local_path"), t.local_path);
  const secret = r.string(p("secret_name"), t.secret_name);
  const raw = r.string(p("raw_value"), t.raw_value);
  if (!guestPath) return undefined;
  const out: FileSpec = { guestPath, processes: readProcesses(r, p("processes"), t.processes) };
  if (local !== undefined) {
    try {
      out.rawValueBase64 = readFileSync(isAbsolute(local) || dir === undefined ? local : join(dir, local)).toString(
        "base64",
      );
    } catch (error) {
      r.problem(p("local_path"), `cannot read ${local}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
    }
  } else if (secret !== undefined) out.secretName = secret;
  else if (raw !== undefined) out.rawValueBase64 = Buffer.from(raw).toString("base64");
  else r.problem(entry.path, "needs one of local_path, secret_name or raw_value");
  return out;
}
