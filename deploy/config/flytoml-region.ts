/**
 * `primary_region` checked against the shipped region list (regions.ts) while fly.toml is read, so a typo is one of
 * the problems `deploy` lists up front (issue 21) rather than a 4xx from the Machines API mid-run. A region Fly added
 * after the list is accepted when the caller allows it (`--allow-region`, FLIGHTDECK_ALLOW_REGIONS). fly.toml has no
 * other region key: flyctl's appconfig.Config has only PrimaryRegion (`--regions` is a deploy flag, a filter).
 * @module
 */

import type { Reader } from "./config-reader.ts";
import { checkRegion } from "./regions.ts";

export const ALLOW_REGIONS_ENV = "FLIGHTDECK_ALLOW_REGIONS";
const CODE = /^[a-z]{3}$/;
/** `${REGION}`, `$REGION`, `{{ region }}`, `<region>`: a template nobody filled in (neither flyctl nor we expand them). */
const PLACEHOLDER = /\$\{|^\$[A-Za-z_]|\{\{|^<.*>$/;

/** Why `code` cannot be a region, or undefined when it may be one; the same words for fly.toml and `--region`. */
export function regionProblem(code: string, allowed: readonly string[]): string | undefined {
  if (code.trim() === "") return 'is empty: write a Fly region code such as "ewr", or remove the key';
  if (PLACEHOLDER.test(code))
    return `${JSON.stringify(code)} is a placeholder, not a region: fly.toml is not expanded (flyctl does not either); write the region code, e.g. "ewr"`;
  const check = checkRegion(code, allowed);
  return check.ok ? undefined : `${check.message} (or ${ALLOW_REGIONS_ENV}=${code})`;
}

/** Reads `primary_region`: a string that names a region (or an allowed one), else a problem at its path. */
export function readPrimaryRegion(r: Reader, value: unknown, allowed: readonly string[]): string | undefined {
  const s = r.string("primary_region", value);
  if (s === undefined) return undefined;
  const problem = regionProblem(s, allowed);
  if (problem) {
    r.problem("primary_region", problem);
    return undefined;
  }
  return s;
}

/**
 * The extra region codes a run accepts: `--allow-region` (repeatable) and FLIGHTDECK_ALLOW_REGIONS=a,b. Each must look
 * like a Fly region code (three lowercase letters); `bad` gets the first that does not.
 */
export function allowedRegions(
  flag: string | readonly string[] | undefined,
  envValue: string | undefined,
): { ok: true; codes: string[] } | { ok: false; bad: string; from: string } {
  const fromFlag = flag === undefined ? [] : typeof flag === "string" ? [flag] : [...flag];
  const fromEnv = (envValue ?? "")
    .split(",")
    .map((c) => c.trim())
    .filter((c) => c !== "");
  for (const c of fromFlag) if (!CODE.test(c)) return { ok: false, bad: c, from: "--allow-region" };
  for (const c of fromEnv) if (!CODE.test(c)) return { ok: false, bad: c, from: ALLOW_REGIONS_ENV };
  return { ok: true, codes: [...new Set([...fromFlag, ...fromEnv])] };
}
