/**
 * The shipped region list: known codes pass, near misses get a suggestion, a newer region can be accepted; fly.toml's
 * primary_region and --region are checked against it with the file's other problems.
 * @module
 */
import { describe, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { checkRegion, FLY_REGIONS, FLY_REGIONS_SOURCE } from "../../../deploy/config/regions.ts";
import { allowedRegions } from "../../../deploy/config/flytoml-region.ts";
import { formatProblems, parseDeployConfig } from "../../../deploy/config/flytoml.ts";
import { main } from "../../../deploy/run.ts";
import { captureIo } from "../harness.ts";
import { startFakeFly } from "../../fakes/fly-machines.ts";

describe("Fly regions", () => {
  test("the list names its source and date, and holds the project's own region", () => {
    expect(FLY_REGIONS_SOURCE.date).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(Object.keys(FLY_REGIONS)).toHaveLength(18);
    expect(checkRegion("ewr")).toEqual({ ok: true });
  });

  test("a near miss suggests the region", () => {
    expect(checkRegion("ewe")).toMatchObject({ ok: false, suggestion: "ewr" });
    expect(checkRegion("rwe")).toMatchObject({ ok: false, suggestion: "ewr" });
    expect(checkRegion("FRA")).toMatchObject({ ok: false, suggestion: "fra" });
    const r = checkRegion("lhe");
    expect(r.ok ? "" : r.message).toBe(
      `"lhe" is not a Fly region (list of 2025-10-28, https://fly.io/docs/reference/regions/); did you mean "lhr" (London, United Kingdom)? if Fly has added it since, accept it with --allow-region lhe`,
    );
  });

  test("no near miss: no suggestion; a deprecated region is refused; an allowed one passes", () => {
    const xyz = checkRegion("qqq");
    expect(xyz.ok).toBe(false);
    expect(xyz.ok ? undefined : xyz.suggestion).toBeUndefined();
    expect(checkRegion("bos").ok).toBe(false);
    expect(checkRegion("xyz", ["xyz"])).toEqual({ ok: true });
  });
});

/** fly.toml's primary_region against the list: every problem of the file in one run, and the ways to accept a new region. */
describe("primary_region in validation", () => {
  const toml = (region: string, extra = "") => `app = "regions"\nprimary_region = ${JSON.stringify(region)}\n${extra}`;
  const problems = (text: string, allowRegions?: string[]) => {
    const r = parseDeployConfig(text, allowRegions ? { allowRegions } : {});
    return r.ok ? [] : formatProblems(r.problems).split("\n");
  };

  test("a near miss is an error with the suggestion; a known region and an allowed one pass", () => {
    expect(problems(toml("ewr"))).toEqual([]);
    expect(problems(toml("ewe"))).toEqual([
      'primary_region: "ewe" is not a Fly region (list of 2025-10-28, https://fly.io/docs/reference/regions/); did you mean "ewr" (Secaucus, NJ (US))? if Fly has added it since, accept it with --allow-region ewe (or FLIGHTDECK_ALLOW_REGIONS=ewe)',
    ]);
    expect(problems(toml("FRA"))[0]).toContain('did you mean "fra" (Frankfurt, Germany)?');
    expect(problems(toml("xyz"), ["xyz"])).toEqual([]);
  });

  test("empty and placeholder values are refused with what to write instead", () => {
    expect(problems(toml(""))).toEqual([
      'primary_region: is empty: write a Fly region code such as "ewr", or remove the key',
    ]);
    for (const p of ["${REGION}", "$REGION", "{{ .Region }}", "<region>"])
      expect(problems(toml(p))).toEqual([
        `primary_region: ${JSON.stringify(p)} is a placeholder, not a region: fly.toml is not expanded (flyctl does not either); write the region code, e.g. "ewr"`,
      ]);
  });

  test("collected with the other problems of the file", () => {
    const all = problems(toml("lhe", '[deploy]\nstrategy = "rolling-eyes"\n'));
    expect(all).toHaveLength(2);
    expect(all.some((l) => l.startsWith('primary_region: "lhe" is not a Fly region'))).toBe(true);
    expect(all.some((l) => l.startsWith("deploy.strategy:"))).toBe(true);
  });

  test("allowed codes: --allow-region (repeatable) and FLIGHTDECK_ALLOW_REGIONS, each a region-shaped code", () => {
    expect(allowedRegions(["abc", "def"], " ghi, abc ,")).toEqual({ ok: true, codes: ["abc", "def", "ghi"] });
    expect(allowedRegions("abc", undefined)).toEqual({ ok: true, codes: ["abc"] });
    expect(allowedRegions(["ABC"], undefined)).toEqual({ ok: false, bad: "ABC", from: "--allow-region" });
    expect(allowedRegions(undefined, "abc,${X}")).toEqual({ ok: false, bad: "${X}", from: "FLIGHTDECK_ALLOW_REGIONS" });
  });
});

describe("the CLI: errors first, then warnings; --allow-region and the env accept a new region", () => {
  const dir = mkdtempSync(join(tmpdir(), "flightdeck-regions-"));
  const path = join(dir, "fly.toml");
  writeFileSync(path, `app = "regions"\nprimary_region = "qqx"\nprimary_regoin = "x"\n[[vm]]\n  memory = "512 megs"\n`);
  // An unroutable API: a refused config makes no call.
  const env = { FLY_API_TOKEN: "unused", FLY_FLAPS_BASE_URL: "http://127.0.0.1:9" };

  test("an unknown region is one of the errors, listed before the warnings, exit 2", async () => {
    const cap = captureIo(env);
    expect(await main(["plan", "--config", path], cap)).toBe(2);
    const err = cap.err.join("");
    expect(err).toContain(`${path} is not valid: 2 error(s):`);
    expect(err).toContain(
      'primary_region: "qqx" is not a Fly region (list of 2025-10-28, https://fly.io/docs/reference/regions/); if Fly has added it since, accept it with --allow-region qqx (or FLIGHTDECK_ALLOW_REGIONS=qqx)',
    );
    expect(err.indexOf("primary_region:")).toBeLessThan(err.indexOf("1 warning(s):"));
    expect(err.indexOf("1 warning(s):")).toBeLessThan(err.indexOf("primary_regoin: unknown key"));
  });

  test("accepted by --allow-region and by FLIGHTDECK_ALLOW_REGIONS; a malformed code is a usage error", async () => {
    writeFileSync(path, `app = "regions"\nprimary_region = "qqx"\n`);
    const fly = startFakeFly();
    try {
      const api = { FLY_API_TOKEN: fly.token, FLY_FLAPS_BASE_URL: fly.url };
      for (const [argv, extra] of [
        [["--allow-region", "abc", "--allow-region", "qqx"], {}],
        [[], { FLIGHTDECK_ALLOW_REGIONS: "abc,qqx" }],
      ] as const) {
        const cap = captureIo({ ...api, ...extra });
        const code = await main(["plan", "--config", path, "--image", "registry.fly.io/regions:v1", ...argv], cap);
        expect(cap.err.join("")).toBe("");
        expect(cap.out.join("")).toContain("+ create app regions in org personal");
        expect(code).toBe(0);
      }
    } finally {
      await fly.close();
    }
    const bad = captureIo(env);
    expect(await main(["plan", "--config", path, "--allow-region", "Qqx"], bad)).toBe(2);
    expect(bad.err.join("")).toContain('--allow-region: "Qqx" is not a region code');
    const flag = captureIo(env);
    expect(await main(["plan", "--config", path, "--allow-region", "qqx", "--region", "${R}"], flag)).toBe(2);
    expect(flag.err.join("")).toContain('--region "${R}" is a placeholder, not a region');
  });
});
