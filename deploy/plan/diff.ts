/**
 * The field diff between a machine's live config and the one a deploy would send: what a reviewer reads to approve a
 * plan (issue 21), where the config digest only says "something changed". Pure.
 *
 * What is compared, and why: the fields fly.toml decides (flyctl `updateMachineConfig`, internal/appconfig/machines.go):
 * image, env, guest, services (ports, handlers, concurrency, checks), top-level checks, mounts, restart, init,
 * stop_config, metrics, statics, files and the process group. Bookkeeping metadata (release version, digest, fleet
 * size, cordon mark) is left out: it changes on every deploy and says nothing about what the machine runs. Volume IDs
 * are left out: they are per machine (the digest leaves them out too, machine-config.ts configDigest).
 *
 * Live configs come back from the Machines API with `autostop` as a boolean where we send "stop"/"off" (fly-go
 * `MachineAutostop.MarshalJSON`), so both sides are normalised before comparing; the digest stays the identity.
 *
 * `files[].raw_value` is file content (base64) and may carry credentials, so only "content changed" is shown, never
 * the value; a `secret_name` is a name and is shown.
 *
 * @module
 */

import type { MachineConfig } from "../machine/machine-config.ts";
import { METADATA } from "../machine/machine-config.ts";

/** One changed field: `before` is null when the field is added, `after` null when it is removed. */
export type FieldChange = { path: string; before: unknown; after: unknown };

const COMPARED_KEYS = [
  "image",
  "process_group",
  "env",
  "guest",
  "init",
  "services",
  "checks",
  "mounts",
  "restart",
  "stop_config",
  "metrics",
  "statics",
  "files",
] as const;

/** Guest fields fly.toml sets ([[vm]]); the API may add others (max_memory_mb) that no fly.toml asked for. */
const GUEST_KEYS = ["cpu_kind", "cpus", "memory_mb", "gpu_kind", "gpus", "kernel_args", "host_dedication_id"];

const REDACTED = "(content changed)";

function autostopWord(v: unknown): unknown {
  if (v === true) return "stop";
  if (v === false) return "off";
  return v;
}

function pick(obj: Record<string, unknown> | undefined, keys: readonly string[]): Record<string, unknown> | undefined {
  if (!obj) return undefined;
  const out: Record<string, unknown> = {};
  for (const k of keys) if (obj[k] !== undefined) out[k] = obj[k];
  return out;
}

/** The comparable view of a config: only the compared fields, normalised. */
function view(c: MachineConfig): Record<string, unknown> {
  const out: Record<string, unknown> = {
    image: c.image,
    process_group: c.metadata?.[METADATA.processGroup],
    env: c.env,
    guest: pick(c.guest as Record<string, unknown> | undefined, GUEST_KEYS),
    init: c.init,
    services: c.services?.map((s) => ({
      ...s,
      ...(s.autostop !== undefined ? { autostop: autostopWord(s.autostop) } : {}),
    })),
    checks: c.checks,
    mounts: c.mounts?.map(({ volume: _volume, ...m }) => m),
    restart: c.restart,
    stop_config: c.stop_config,
    metrics: c.metrics,
    statics: c.statics,
    files: c.files,
  };
  return out;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

function isObjectArray(v: unknown): v is Record<string, unknown>[] {
  return Array.isArray(v) && v.length > 0 && v.every(isPlainObject);
}

function canonical(v: unknown): string {
  return JSON.stringify(v, (_k, x) =>
    isPlainObject(x)
      ? Object.fromEntries(
          Object.keys(x)
            .sort()
            .map((k) => [k, x[k]]),
        )
      : x,
  );
}

function empty(v: unknown): boolean {
  return (
    v === undefined ||
    v === null ||
    (Array.isArray(v) && v.length === 0) ||
    (isPlainObject(v) && Object.keys(v).length === 0)
  );
}

function join(path: string, key: string): string {
  if (path === "") return key;
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
}

function redactFiles(path: string, before: unknown, after: unknown): [unknown, unknown] {
  if (!path.startsWith("files") || !path.endsWith("raw_value")) return [before, after];
  return [before === undefined ? undefined : REDACTED, after === undefined ? undefined : REDACTED];
}

function walk(path: string, before: unknown, after: unknown, out: FieldChange[]): void {
  if (empty(before) && empty(after)) return;
  if (isPlainObject(before) && isPlainObject(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    for (const k of keys) walk(join(path, k), before[k], after[k], out);
    return;
  }
  if (isObjectArray(before) && isObjectArray(after)) {
    const n = Math.max(before.length, after.length);
    for (let i = 0; i < n; i++) walk(`${path}[${i}]`, before[i], after[i], out);
    return;
  }
  if (canonical(before) === canonical(after)) return;
  const [b, a] = redactFiles(path, before, after);
  out.push({ path, before: scrub(b) ?? null, after: scrub(a) ?? null });
}

/** A whole file entry added or removed carries its raw_value too: never copy it into a change. */
function scrub(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(scrub);
  if (isPlainObject(v)) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = k === "raw_value" ? REDACTED : scrub(x);
    return out;
  }
  return v;
}

/** The fields that differ, in a stable order (the compared keys' order, then by path). */
export function diffMachineConfigs(before: MachineConfig, after: MachineConfig): FieldChange[] {
  const b = view(before);
  const a = view(after);
  const out: FieldChange[] = [];
  for (const key of COMPARED_KEYS) walk(key, b[key], a[key], out);
  return out;
}

/** env APP_VERSION is derived from the image (apply/release-number.ts appVersionOf): it moves with the image, on its own never. */
const FOLLOWS_IMAGE = new Set(["image", "env.APP_VERSION"]);

/** True when only the image (and what follows it) differs: the plan then says "image change", not "config change". */
export function imageOnly(changes: readonly FieldChange[]): boolean {
  return changes.some((c) => c.path === "image") && changes.every((c) => FOLLOWS_IMAGE.has(c.path));
}
