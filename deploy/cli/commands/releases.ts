/**
 * `releases`: the app's release history, newest first, as a table or (`--json`) an array of objects. The history is
 * the one rollback chooses from, carried by the machines (deploy/fleet/releases.ts); this verb only reads it, the way
 * flyctl `releases` and Kamal's audit log answer "what ran when, who ran it, and did it work". Read-only: no lock.
 * Records written before who/message existed print with "-" in those columns (JSON: null).
 *
 * @module
 */

import { DeployError, usageError } from "../../deploy-error.ts";
import { observe } from "../../fleet/observe.ts";
import { type ReleaseRecord, releaseHistory } from "../../fleet/releases.ts";
import { type CommandContext, flyClient, loadConfig } from "../../ops/context.ts";

/** One release as `--json` prints it: every key present, null when the record does not say. */
export interface ReleaseRow {
  version: number;
  outcome: ReleaseRecord["outcome"];
  at: string | null;
  by: string | null;
  url: string | null;
  image: string;
  message: string | null;
  rollbackTo: number | null;
}

export function releaseRows(history: readonly ReleaseRecord[]): ReleaseRow[] {
  return history.map((r) => ({
    version: r.version,
    outcome: r.outcome,
    at: r.at || null,
    by: r.by ?? null,
    url: r.url ?? null,
    image: r.image,
    message: r.message ?? null,
    rollbackTo: r.rollbackTo ?? null,
  }));
}

const OUTCOME_WORDS: Record<ReleaseRecord["outcome"], string> = {
  good: "good",
  failed: "failed",
  rolled_back: "rolled back",
};

/** The table: one row per release, columns padded to the widest cell, "-" for what a record does not say. */
export function formatReleases(app: string, rows: readonly ReleaseRow[]): string {
  if (rows.length === 0) return `no releases recorded for ${app} yet (every deploy, scale and rollback records one)\n`;
  const cells = rows.map((r) => [
    `v${r.version}`,
    OUTCOME_WORDS[r.outcome],
    r.at ? r.at.replace(/\.\d+Z$/, "Z") : "-",
    r.by ? `${r.by}${r.url ? ` ${r.url}` : ""}` : (r.url ?? "-"),
    r.image,
    [r.rollbackTo !== null ? `rollback to v${r.rollbackTo}` : "", r.message ?? ""].filter(Boolean).join(": ") || "-",
  ]);
  const head = ["VERSION", "OUTCOME", "WHEN", "WHO", "IMAGE", "MESSAGE"];
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] ?? "").length)));
  const line = (c: readonly string[]) =>
    c
      .map((x, i) => (i === c.length - 1 ? x : x.padEnd(widths[i] ?? 0)))
      .join("  ")
      .trimEnd();
  return `${[line(head), ...cells.map(line)].join("\n")}\n`;
}

export async function releasesCommand(ctx: CommandContext): Promise<ReleaseRow[]> {
  const limit = ctx.args.flags.limit;
  if (typeof limit === "number" && limit < 1) throw usageError(`--limit must be 1 or more (got ${limit})`);
  const config = await loadConfig(ctx.args, ctx.output, ctx.io.env);
  const observed = await observe(flyClient(ctx.io), config.app, { signal: ctx.io.signal });
  // As `status`: an unknown app is not an app with no releases.
  if (!observed.state.app.exists)
    throw new DeployError("app_not_found", `app ${config.app} does not exist yet; \`deploy\` creates it`, 1, {
      app: config.app,
    });
  const history = releaseHistory(observed.machines);
  const rows = releaseRows(typeof limit === "number" ? history.slice(0, limit) : history);
  if (!ctx.output.json) ctx.io.stdout(formatReleases(config.app, rows));
  return rows;
}
