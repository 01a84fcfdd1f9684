/**
 * Change sets (plan/explain.ts) as text, for `plan` on stdout and `deploy` on stderr:
 *
 *   5 machines in ewr (m1, m2, m3, m4, m5):
 *     guest.memory_mb: 512 -> 1024
 *     env.FEATURE: added "on"
 *     secrets: + STRIPE_KEY
 *
 * An image-only change reads "image A -> B" on the heading line. `--json` carries the same changes as data.
 *
 * @module
 */

import type { FieldChange } from "./diff.ts";
import { formatSecretChange } from "./secrets-diff.ts";
import type { ChangeSet } from "./types.ts";

function value(v: unknown): string {
  return JSON.stringify(v);
}

export function formatChange(c: FieldChange): string {
  const secret = formatSecretChange(c);
  if (secret !== undefined) return secret;
  if (c.before === null) return `${c.path}: added ${value(c.after)}`;
  if (c.after === null) return `${c.path}: removed (was ${value(c.before)})`;
  return `${c.path}: ${value(c.before)} -> ${value(c.after)}`;
}

function heading(s: ChangeSet): string {
  const n = s.machines.length;
  const who = `${n} machine${n === 1 ? "" : "s"} in ${s.region}${s.group !== undefined ? ` [${s.group}]` : ""}`;
  return `${who} (${s.machines.join(", ")})`;
}

/** The lines for the change sets, indented by `indent`; [] when there are none. */
export function formatChangeSets(sets: readonly ChangeSet[], indent = "  "): string[] {
  const lines: string[] = [];
  for (const s of sets) {
    if (s.imageOnly) {
      const image = s.changes.find((c) => c.path === "image");
      lines.push(`${indent}${heading(s)}: image ${String(image?.before)} -> ${String(image?.after)}`);
      continue;
    }
    if (s.changes.length === 0) {
      lines.push(`${indent}${heading(s)}: no config field changes (see the reasons above: secrets or a relaunch)`);
      continue;
    }
    lines.push(`${indent}${heading(s)}:`);
    for (const c of s.changes) lines.push(`${indent}  ${formatChange(c)}`);
  }
  return lines;
}
