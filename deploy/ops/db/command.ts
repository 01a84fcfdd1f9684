// `bun deploy/run.ts db <verb>`: the flags each verb takes (the command table lists the union; a flag given to
// a verb that does not use it is a usage error, exit 2), then the verb, then its human output (stdout) or JSON.

import type { CommandContext } from "../context.ts";
import { flyClient, loadConfig, waitForLockMs } from "../context.ts";
import { usageError } from "../../deploy-error.ts";
import { attachCluster, detachCluster } from "./attach.ts";
import { createBackup, listBackups, restoreBackup } from "./backups.ts";
import type { DbContext } from "./cluster.ts";
import { createCluster, type Plan } from "./create.ts";
import { clusterNameProblem, databaseProblem, usernameProblem } from "./names.ts";
import { clusterStatus, destroyCluster, formatStatus } from "./status.ts";

const COMMON = ["config", "json"];
/** The flags each `db` verb takes besides --config and --json (README's test checks its lines against this). */
export const VERB_FLAGS: Record<string, readonly string[]> = {
  create: ["name", "region", "plan", "disk-gb"],
  attach: ["cluster", "database", "user", "force", "wait-for-lock"],
  status: ["cluster"],
  backup: ["cluster"],
  backups: ["cluster"],
  restore: ["cluster", "backup", "name"],
  detach: ["cluster"],
  destroy: ["cluster", "yes", "force"],
};

/** Per Fly's createPostgresClusterRequest: 10..1000 GB. */
const DISK_GB = { min: 10, max: 1000 };

export async function dbCommand(ctx: CommandContext): Promise<unknown> {
  const { subcommand: verb = "", positionals, flags } = ctx.args;
  if (positionals.length > 0) throw usageError(`unexpected argument "${positionals[0]}" for "db ${verb}"`);
  const allowed = new Set([...COMMON, ...(VERB_FLAGS[verb] ?? [])]);
  for (const key of Object.keys(flags)) {
    if (!allowed.has(key))
      throw usageError(
        `--${key} is not a flag of "db ${verb}" (it takes ${[...allowed].map((f) => `--${f}`).join(", ")})`,
      );
  }
  const text = (key: string) => (typeof flags[key] === "string" ? (flags[key] as string) : undefined);
  const on = (key: string) => flags[key] === true;
  for (const key of ["cluster", "name", "region", "backup", "database", "user"]) {
    if (text(key) !== undefined && text(key)!.trim() === "") throw usageError(`--${key} needs a value`);
  }
  const problem = [
    text("name") !== undefined ? clusterNameProblem(text("name")!) : undefined,
    text("database") !== undefined ? databaseProblem(text("database")!) : undefined,
    text("user") !== undefined ? usernameProblem(text("user")!) : undefined,
  ].find(Boolean);
  if (problem) throw usageError(problem);
  const diskGb = flags["disk-gb"] as number | undefined;
  if (diskGb !== undefined && (diskGb < DISK_GB.min || diskGb > DISK_GB.max))
    throw usageError(`--disk-gb must be between ${DISK_GB.min} and ${DISK_GB.max} (got ${diskGb})`);
  if (verb === "restore" && text("backup") === undefined)
    throw usageError(`"db restore" needs --backup ID (see \`bun deploy/run.ts db backups\`)`);
  if (verb === "destroy" && !on("yes"))
    throw usageError(`"db destroy" needs --yes: it deletes the cluster and all its data`);

  const config = await loadConfig(ctx.args, ctx.output);
  const wait = waitForLockMs(ctx.args);
  const db: DbContext = {
    client: flyClient(ctx.io),
    config,
    output: ctx.output,
    env: ctx.io.env,
    signal: ctx.io.signal,
    ...(wait !== undefined ? { waitForLockMs: wait } : {}),
  };
  const print = (line: string) => {
    if (!ctx.output.json) ctx.io.stdout(line.endsWith("\n") ? line : `${line}\n`);
  };
  const cluster = text("cluster");

  switch (verb) {
    case "create": {
      const result = await createCluster(db, {
        name: text("name"),
        region: text("region"),
        plan: text("plan") as Plan | undefined,
        diskGb,
      });
      print(
        `cluster ${result.cluster.name} (${result.cluster.id}) is ready in ${result.cluster.region}${result.created ? "" : " (it already existed)"}\nnext: bun deploy/run.ts db attach`,
      );
      return result;
    }
    case "attach": {
      const result = await attachCluster(db, {
        cluster,
        database: text("database"),
        user: text("user"),
        force: on("force"),
      });
      print(`${result.app} uses ${result.url}${result.secretWritten ? "" : " (unchanged)"}`);
      return result;
    }
    case "status": {
      const result = await clusterStatus(db, { cluster });
      print(formatStatus(result));
      return result;
    }
    case "backup": {
      const result = await createBackup(db, { cluster });
      print(`backup ${result.backup.id} of ${result.cluster.name}: ${result.backup.status ?? "queued"}`);
      return result;
    }
    case "backups": {
      const result = await listBackups(db, { cluster });
      print(
        result.backups.length === 0
          ? `cluster ${result.cluster.name} has no backups yet (make one with \`bun deploy/run.ts db backup\`)`
          : result.backups
              .map((b) =>
                [
                  b.id,
                  b.type ?? "",
                  b.status ?? "",
                  b.startedAt ?? "",
                  b.sizeBytes === null ? "" : `${(b.sizeBytes / 1024 ** 2).toFixed(1)} MiB`,
                ].join("\t"),
              )
              .join("\n"),
      );
      return result;
    }
    case "restore": {
      const result = await restoreBackup(db, { cluster, backup: text("backup")!, name: text("name") });
      print(
        `restored backup ${result.backup} into cluster ${result.cluster.name} (${result.cluster.id}); ${result.source.name} is unchanged and ${config.app} still uses it.\nnext steps:\n${result.nextSteps.map((s) => `  ${s}`).join("\n")}`,
      );
      return result;
    }
    case "detach":
      return detachCluster(db, { cluster });
    case "destroy":
      return destroyCluster(db, { cluster, force: on("force") });
    default:
      throw usageError(`unknown "db" subcommand "${verb}"`);
  }
}
