/**
 * What a command below the CLI gets from it: the parsed words, the process edges and the progress sink, plus the
 * three things every command that works on the app needs (a Fly client, fly.toml, the lock wait). It lives below
 * `cli/` so `ops/` can run a command without importing the CLI (issue 19: no import from below into `cli/`).
 * @module
 */

import { createFlyClient, type FlyClient, FlyClientConfigError } from "../../lib/fly/client.ts";
import { type DeployConfig, formatProblems, loadDeployConfig } from "../config/flytoml.ts";
import { APP_NAME } from "../config/app-name.ts";
import { ALLOW_REGIONS_ENV, allowedRegions } from "../config/flytoml-region.ts";
import { DeployError, usageError } from "../deploy-error.ts";
import { parseWaitForLock } from "../fleet/lock.ts";
import type { CliIo, Output } from "../output.ts";

/** argv after the CLI's parser: the shape `cli/args.ts` returns, named here without the CLI's command table. */
export interface CommandArgs {
  command: string;
  subcommand?: string;
  positionals: string[];
  /** A `repeatable` flag (commands.ts) is the list of its values. */
  flags: Record<string, string | boolean | number | readonly string[]>;
  /** Words after a bare `--`, verbatim (`exec -- bun run migrate --dry`); only for `passthrough` commands. */
  rest: string[];
}

export interface CommandContext {
  args: CommandArgs;
  io: CliIo;
  output: Output;
}

export function flyClient(io: CliIo): FlyClient {
  try {
    return createFlyClient({ env: io.env });
  } catch (error) {
    if (error instanceof FlyClientConfigError) throw new DeployError("preflight_failed", error.message, 2);
    throw error;
  }
}

export function configPath(args: CommandArgs): string {
  return typeof args.flags.config === "string" ? args.flags.config : "fly.toml";
}

/**
 * fly.toml for a command that works on the app: warnings (unknown keys, accepted-but-unused keys) are printed and
 * the command goes on, as flyctl does; problems, or every warning under --strict, stop it with exit 2.
 */
export async function loadConfig(
  args: CommandArgs,
  output?: Output,
  env: Record<string, string | undefined> = process.env,
): Promise<DeployConfig> {
  const path = configPath(args);
  const allowRegions = regionsAllowed(args, env);
  // Said before parsing: a missing file is not an invalid one, and "pass --config" is wrong advice when it was passed.
  if (!(await Bun.file(path).exists())) {
    const message =
      typeof args.flags.config === "string"
        ? `--config ${path}: no such file; check the path (it is read relative to ${process.cwd()})`
        : `no fly.toml in ${process.cwd()}; run from the app's directory or pass --config <file>`;
    throw new DeployError("config_missing", message, 2, { path });
  }
  const parsed = await loadDeployConfig(path, { strict: args.flags.strict === true, allowRegions });
  // Every problem in one run (issue 21): errors first, then the warnings (unknown keys with their did-you-mean),
  // which would otherwise appear only once the errors were fixed.
  if (!parsed.ok) {
    const warnings =
      parsed.warnings.length > 0 ? `\n${parsed.warnings.length} warning(s):\n${formatProblems(parsed.warnings)}` : "";
    throw new DeployError(
      "config_invalid",
      `${path} is not valid: ${parsed.problems.length} error(s):\n${formatProblems(parsed.problems)}${warnings}`,
      2,
    );
  }
  if (output && parsed.warnings.length > 0)
    output.warn(
      `${path}: ${parsed.warnings.length} warning(s) (--strict makes them errors):\n${formatProblems(parsed.warnings)}`,
    );
  const override = args.flags.app;
  if (typeof override === "string") {
    if (!APP_NAME.test(override))
      throw usageError(
        `--app must be a Fly app name: lowercase letters, digits and dashes, at most 63 (got ${JSON.stringify(override.slice(0, 80))})`,
      );
    return { ...parsed.config, app: override };
  }
  if (parsed.config.app === "")
    throw new DeployError("config_invalid", `${path} has no app name: add app = "<name>" at the top`, 2);
  return parsed.config;
}

/**
 * `--allow-region CODE` (repeatable) and FLIGHTDECK_ALLOW_REGIONS=a,b: regions Fly added after config/regions.ts.
 * `env` defaults to process.env, which is the CLI's io.env outside in-process tests.
 */
export function regionsAllowed(args: CommandArgs, env: Record<string, string | undefined> = process.env): string[] {
  const flag = args.flags["allow-region"];
  const allowed = allowedRegions(
    typeof flag === "string" || Array.isArray(flag) ? flag : undefined,
    env[ALLOW_REGIONS_ENV],
  );
  if (!allowed.ok)
    throw usageError(`${allowed.from}: "${allowed.bad}" is not a region code (three lowercase letters, e.g. ewr)`);
  return allowed.codes;
}

/** --wait-for-lock DURATION, in ms; undefined when not given (the lock's default, 2 minutes, applies). */
export function waitForLockMs(args: CommandArgs): number | undefined {
  return durationFlag(args, "wait-for-lock", "2m, 30s or 0s");
}

/** A duration flag (`--name 30s`), in ms; undefined when not given; a usage error naming `examples` when malformed. */
export function durationFlag(args: CommandArgs, name: string, examples: string): number | undefined {
  const text = args.flags[name];
  if (typeof text !== "string") return undefined;
  const ms = parseWaitForLock(text);
  if (ms === undefined) throw usageError(`--${name} must be a duration such as ${examples} (got "${text}")`);
  return ms;
}
