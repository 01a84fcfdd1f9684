/**
 * Which app secrets a machine update brings in, by name (issue 21): a machine boots with the app's secrets as of
 * its update (min_secrets_version, flyctl-behaviours.md §4.2), so "secrets v3 -> v5" means some names were added,
 * removed or changed since it was last created or updated. The Machines API lists secret names and digests, never
 * a machine's own set, so each machine a deploy or secrets roll writes carries what it was given in metadata
 * `flightdeck_secrets` (name -> digest prefix; outside the config digest, like the release history). Pure.
 *
 * Never a value: Fly's digest is what `secrets list` shows anyone holding the app's token (fly-machines-api.md,
 * GET /apps/{app}/secrets), and only its first 16 characters are kept. A machine without the key (written before
 * it existed, or by another tool) says nothing: no names are guessed for it.
 *
 * @module
 */

import type { FieldChange } from "./diff.ts";
import type { ObservedState } from "./types.ts";

export const SECRETS_KEY = "flightdeck_secrets";
const DIGEST_CHARS = 16;

type AppSecrets = ObservedState["secrets"];

/** The app's secrets as a machine records them: name -> digest prefix ("" when Fly gave no digest). */
export function secretDigests(secrets: AppSecrets): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of [...secrets.names].sort()) out[name] = (secrets.digests?.[name] ?? "").slice(0, DIGEST_CHARS);
  return out;
}

export function encodeSecretDigests(secrets: AppSecrets): string {
  return JSON.stringify(secretDigests(secrets));
}

/** A machine's record; undefined when absent or malformed (then nothing is known, nothing is shown). */
export function parseSecretDigests(value: string | undefined): Record<string, string> | undefined {
  if (value === undefined) return undefined;
  try {
    const raw: unknown = JSON.parse(value);
    if (raw === null || typeof raw !== "object" || Array.isArray(raw)) return undefined;
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(raw)) if (typeof v === "string") out[k] = v;
    return out;
  } catch {
    return undefined;
  }
}

/**
 * `secrets.NAME` changes from what a machine was given to what the app has now: added (before "unset", after
 * "set"), removed ("set" -> "unset"), changed ("digest …" -> "digest …", only when both digests are known). Sorted.
 */
export function secretChanges(recorded: Record<string, string> | undefined, now: AppSecrets): FieldChange[] {
  if (recorded === undefined) return [];
  const current = secretDigests(now);
  const names = [...new Set([...Object.keys(recorded), ...Object.keys(current)])].sort();
  const out: FieldChange[] = [];
  for (const name of names) {
    const before = recorded[name];
    const after = current[name];
    const path = `secrets.${name}`;
    if (before === undefined) out.push({ path, before: "unset", after: "set" });
    else if (after === undefined) out.push({ path, before: "set", after: "unset" });
    else if (before !== "" && after !== "" && before !== after)
      out.push({ path, before: `digest ${before}`, after: `digest ${after}` });
  }
  return out;
}

/** `secrets: + NAME` / `- NAME` / `~ NAME` for the text plan; undefined for any other change. */
export function formatSecretChange(c: FieldChange): string | undefined {
  if (!c.path.startsWith("secrets.")) return undefined;
  const name = c.path.slice("secrets.".length);
  const mark = c.before === "unset" ? "+" : c.after === "unset" ? "-" : "~";
  return `secrets: ${mark} ${name}`;
}
