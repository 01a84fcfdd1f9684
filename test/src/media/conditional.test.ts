import { describe, expect, test } from "bun:test";
import {
  ifMatchPasses,
  ifNoneMatchPasses,
  ifRangeHolds,
  noneMatch,
  parseEtagList,
  parseRange,
} from "../../../src/media/conditional.ts";

describe("conditional requests", () => {
  test("If-None-Match: exact, weak, list and * match; others do not", () => {
    expect(noneMatch('"abc"', '"abc"')).toBe(true);
    expect(noneMatch('W/"abc"', '"abc"')).toBe(true);
    expect(noneMatch('"x", "abc"', '"abc"')).toBe(true);
    expect(noneMatch("*", '"abc"')).toBe(true);
    expect(noneMatch('"abd"', '"abc"')).toBe(false);
    expect(noneMatch(null, '"abc"')).toBe(false);
  });

  test("entity-tag lists: *, strong and weak tags, empty elements; anything else is not a list", () => {
    expect(parseEtagList(" * ")).toBe("*");
    expect(parseEtagList('"a", W/"b",, "c"')).toEqual([
      { weak: false, tag: '"a"' },
      { weak: true, tag: '"b"' },
      { weak: false, tag: '"c"' },
    ]);
    for (const bad of ["abc", '"a', '"a" "b"', '"a b"', '*, "a"']) expect(parseEtagList(bad)).toBeUndefined();
  });

  test("If-Match is strong and needs a current file; If-None-Match on a write; If-Range is strong, one tag", () => {
    expect(ifMatchPasses(undefined, undefined)).toBe(true);
    expect(ifMatchPasses('"abc"', '"abc"')).toBe(true);
    expect(ifMatchPasses('W/"abc"', '"abc"')).toBe(false);
    expect(ifMatchPasses("*", '"abc"')).toBe(true);
    expect(ifMatchPasses("*", undefined)).toBe(false);
    expect(ifMatchPasses("abc", '"abc"')).toBe(false);
    expect(ifNoneMatchPasses("*", undefined)).toBe(true);
    expect(ifNoneMatchPasses("*", '"abc"')).toBe(false);
    expect(ifNoneMatchPasses('W/"abc"', '"abc"')).toBe(false);
    expect(ifNoneMatchPasses('"x"', '"abc"')).toBe(true);
    expect(ifRangeHolds(undefined, '"abc"')).toBe(true);
    expect(ifRangeHolds('"abc"', '"abc"')).toBe(true);
    for (const stale of ['W/"abc"', '"x"', "*", '"abc", "x"', "Tue, 01 Dec 2026 10:00:00 GMT"])
      expect(ifRangeHolds(stale, '"abc"')).toBe(false);
  });

  test("Range: the RFC 9110 forms, clamping, and what is ignored or unsatisfiable", () => {
    expect(parseRange("bytes=0-0", 10)).toEqual({ kind: "partial", start: 0, end: 0 });
    expect(parseRange("bytes=5-", 10)).toEqual({ kind: "partial", start: 5, end: 9 });
    expect(parseRange("bytes=-20", 10)).toEqual({ kind: "partial", start: 0, end: 9 });
    expect(parseRange("bytes=3-99999999999999999999", 10)).toEqual({ kind: "partial", start: 3, end: 9 });
    expect(parseRange("bytes=10-", 10)).toEqual({ kind: "unsatisfiable" });
    expect(parseRange("bytes=-0", 10)).toEqual({ kind: "unsatisfiable" });
    expect(parseRange("bytes=0-", 0)).toEqual({ kind: "unsatisfiable" });
    for (const ignored of [null, "", "items=0-1", "bytes=1-2,4-5", "bytes=5-2", "bytes=-", "bytes=a-b"]) {
      expect(parseRange(ignored, 10)).toEqual({ kind: "full" });
    }
  });
});
