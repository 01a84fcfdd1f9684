// `secrets import [--file PATH]`: a dotenv file (stdin by default, as `fly secrets import < .env.production`) set
// in ONE secrets write through the same path as `secrets set` (machines roll once, under the fleet lease). The
// names are listed, never the values; a bad line is a usage error naming the line (exit 2, nothing changed).

import { readFile } from "node:fs/promises";
import type { CommandContext } from "./context.ts";
import { flyClient, loadConfig } from "./context.ts";
import { DeployError, usageError } from "../deploy-error.ts";
import { parseDotenv } from "./dotenv.ts";
import type { FlyClient } from "../../lib/fly/client.ts";
import type { DeployConfig } from "../config/flytoml.ts";
import { refuseSecretsProductionRejects, type SecretsContext, setSecrets } from "./secrets.ts";

/** `secretsContext` is how `secrets set` writes (its lock wait and all), so an import writes the same way. */
export async function importSecretsCommand(
  ctx: CommandContext,
  secretsContext: (client: FlyClient, config: DeployConfig) => SecretsContext,
) {
  if (ctx.args.positionals.length > 0)
    throw usageError(`"secrets import" takes no NAME=VALUE arguments: put them in the file (or on stdin)`);
  const file = typeof ctx.args.flags.file === "string" ? ctx.args.flags.file : undefined;
  const source = file ?? "stdin";
  const config = await loadConfig(ctx.args, ctx.output);

  let text: string;
  if (file !== undefined) {
    try {
      text = await readFile(file, "utf8");
    } catch (error) {
      const code = (error as { code?: string }).code ?? "unreadable";
      throw usageError(`cannot read --file ${file} (${code})`);
    }
  } else {
    if (!ctx.io.readStdin) throw usageError(`no --file given and no standard input to read`);
    if (ctx.io.stdinIsTTY) ctx.output.step("reading dotenv lines from stdin (end with Ctrl-D), or pass --file PATH");
    text = await ctx.io.readStdin();
  }

  const parsed = parseDotenv(text);
  if (!parsed.ok) {
    throw new DeployError(
      "usage",
      `${source} is not a valid dotenv file (nothing was changed):\n${parsed.problems.map((p) => `- line ${p.line}: ${p.message}`).join("\n")}`,
      2,
    );
  }
  if (parsed.entries.length === 0) throw usageError(`${source} has no NAME=VALUE lines: nothing to import`);
  const values = Object.fromEntries(parsed.entries.map((e) => [e.name, e.value]));
  refuseSecretsProductionRejects(config, values);

  const names = Object.keys(values).sort();
  ctx.output.step(`importing ${names.length} secret(s) from ${source}: ${names.join(", ")}`);
  const client = flyClient(ctx.io);
  const change = await setSecrets(secretsContext(client, config), values);
  if (!ctx.output.json) ctx.io.stdout(`${names.join("\n")}\n`);
  return {
    app: config.app,
    imported: names,
    version: change.version,
    createdApp: change.createdApp,
    machinesUpdated: change.rolled,
  };
}
