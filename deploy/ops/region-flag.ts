/**
 * `--region` (deploy, plan, scale, rollback) held to the same region list and words as fly.toml's primary_region
 * (config/flytoml-region.ts), so a typo is a usage error before any API call rather than a Machines API refusal.
 * @module
 */

import { regionProblem } from "../config/flytoml-region.ts";
import { usageError } from "../deploy-error.ts";
import { type CommandArgs, regionsAllowed } from "./context.ts";

/** Throws a usage error (exit 2) when `--region` is given and is not a region or an allowed code. */
export function checkRegionFlag(args: CommandArgs, env: Record<string, string | undefined>): void {
  const region = args.flags.region;
  if (typeof region !== "string") return;
  const problem = regionProblem(region, regionsAllowed(args, env));
  if (problem) throw usageError(`--region ${problem}`);
}
