import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import {
  FLY_APP_NAME,
  MAX_PR_NUMBER,
  parsePrNumber,
  PreviewNameError,
  previewAppName,
  previewMarker,
  previewNetwork,
  prOfPreviewApp,
  whyNotPreview,
} from "../../../deploy/preview/names.ts";

const appName = fc.stringMatching(/^[a-z][a-z0-9-]{0,61}[a-z0-9]$/).filter((s) => FLY_APP_NAME.test(s));
const prNumber = fc.integer({ min: 1, max: MAX_PR_NUMBER });

describe("parsePrNumber", () => {
  test.each([
    ["1", 1],
    ["42", 42],
    [" 7 ", 7],
    [String(MAX_PR_NUMBER), MAX_PR_NUMBER],
    [42, 42],
  ])("%p -> %p", (input, expected) => {
    expect(parsePrNumber(input)).toBe(expected);
  });

  test.each(
    [
      "0",
      "-1",
      "007",
      "1.0",
      "1e2",
      "0x1f",
      "",
      "abc",
      "42a",
      "4294967296",
      String(MAX_PR_NUMBER + 1),
      "99999999999",
      "٤٢",
      "4 2",
      1.5,
      -3,
      0,
      NaN,
      Infinity,
      null,
      undefined,
      {},
      [[]],
      [["1"]],
    ].map((v) => [v] as const),
  )("refuses %p", (input: unknown) => {
    expect(() => parsePrNumber(input)).toThrow(PreviewNameError);
  });

  test("any string either parses to an integer in range or throws", () => {
    fc.assert(
      fc.property(fc.string(), (input) => {
        try {
          const n = parsePrNumber(input);
          return Number.isInteger(n) && n >= 1 && n <= MAX_PR_NUMBER && String(n) === input.trim();
        } catch (error) {
          return error instanceof PreviewNameError;
        }
      }),
    );
  });
});

describe("previewAppName", () => {
  test("the plain form", () => {
    expect(previewAppName("flightdeck", 42)).toBe("flightdeck-pr-42");
  });

  test("too long: cut deterministically with a hash of the full base, still ending in -pr-N", () => {
    const base = `${"a".repeat(40)}-${"b".repeat(22)}`; // 63 chars
    const name = previewAppName(base, 123456);
    expect(name.length).toBeLessThanOrEqual(63);
    expect(name).toMatch(/^a{40}-b+-[0-9a-f]{6}-pr-123456$/);
    expect(previewAppName(base, 123456)).toBe(name);
    // Two long bases sharing a prefix do not collide.
    expect(previewAppName(`${base.slice(0, -1)}c`, 123456)).not.toBe(name);
  });

  test("a cut that would end in a dash drops it", () => {
    const base = `${"x".repeat(44)}-${"y".repeat(18)}`;
    const name = previewAppName(base, MAX_PR_NUMBER);
    expect(FLY_APP_NAME.test(name)).toBe(true);
    expect(name).not.toContain("--");
  });

  test.each([
    "Flightdeck",
    "flight_deck",
    "-flightdeck",
    "flightdeck-",
    "flight deck",
    "a".repeat(64),
    "",
    "flightdeck;rm",
    "../x",
  ])("refuses the base %p", (base) => {
    expect(() => previewAppName(base, 1)).toThrow(PreviewNameError);
  });

  test("property: valid Fly name, <= 63, ends in -pr-N, never the base, and round-trips through prOfPreviewApp", () => {
    fc.assert(
      fc.property(appName, prNumber, (base, pr) => {
        const name = previewAppName(base, pr);
        return (
          FLY_APP_NAME.test(name) &&
          name.length <= 63 &&
          name.endsWith(`-pr-${pr}`) &&
          name !== base &&
          prOfPreviewApp(name, base) === pr &&
          prOfPreviewApp(base, base) === undefined
        );
      }),
      { numRuns: 500 },
    );
  });

  test("property: distinct PRs get distinct apps", () => {
    fc.assert(
      fc.property(
        appName,
        prNumber,
        prNumber,
        (base, a, b) => a === b || previewAppName(base, a) !== previewAppName(base, b),
      ),
    );
  });
});

describe("whyNotPreview", () => {
  const base = "flightdeck";
  const good = (pr: number) => ({
    name: previewAppName(base, pr),
    network: previewNetwork(previewAppName(base, pr)),
    machines: [{ id: "m1", metadata: { flightdeck_preview: previewMarker(base, pr) } }],
  });

  test("a real preview passes", () => {
    expect(whyNotPreview(good(42), base, 42)).toBeUndefined();
    expect(whyNotPreview({ ...good(42), machines: [] }, base, 42)).toBeUndefined();
  });

  test("production is refused whatever it carries", () => {
    const prod = {
      name: base,
      network: base,
      machines: [{ id: "m", metadata: { flightdeck_preview: previewMarker(base, 1) } }],
    };
    expect(whyNotPreview(prod, base, 1)).toContain("production app");
  });

  test("wrong PR, wrong network, missing or foreign marker, mounts: all refused", () => {
    expect(whyNotPreview(good(42), base, 43)).toContain("not the preview app of PR #43");
    expect(whyNotPreview({ ...good(42), network: "default" }, base, 42)).toContain("not in the preview network");
    expect(whyNotPreview({ ...good(42), network: undefined }, base, 42)).toContain("not in the preview network");
    expect(whyNotPreview({ ...good(42), machines: [{ id: "m", metadata: {} }] }, base, 42)).toContain("does not carry");
    expect(whyNotPreview({ ...good(42), machines: [{ id: "m", metadata: null }] }, base, 42)).toContain(
      "does not carry",
    );
    expect(
      whyNotPreview(
        { ...good(42), machines: [{ id: "m", metadata: { flightdeck_preview: "flightdeck#4" } }] },
        base,
        42,
      ),
    ).toContain("does not carry");
    expect(
      whyNotPreview(
        {
          ...good(42),
          machines: [{ id: "m", metadata: { flightdeck_preview: "flightdeck#42" }, mounts: [{ volume: "v" }] }],
        },
        base,
        42,
      ),
    ).toContain("volume");
  });

  test("property: no candidate named after the base, or after another PR, is ever accepted", () => {
    fc.assert(
      fc.property(
        appName,
        prNumber,
        fc.string(),
        fc.dictionary(fc.string(), fc.string()),
        (b, pr, network, metadata) => {
          const asBase = whyNotPreview({ name: b, network, machines: [{ id: "m", metadata }] }, b, pr);
          const other = whyNotPreview({ name: previewAppName(b, pr === 1 ? 2 : pr - 1), network, machines: [] }, b, pr);
          return asBase !== undefined && other !== undefined;
        },
      ),
    );
  });
});
