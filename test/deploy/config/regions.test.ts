/** The shipped region list: known codes pass, near misses get a suggestion, a newer region can be accepted. @module */
import { describe, expect, test } from "bun:test";
import { checkRegion, FLY_REGIONS, FLY_REGIONS_SOURCE } from "../../../deploy/config/regions.ts";

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
