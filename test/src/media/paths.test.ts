import { describe, expect, test } from "bun:test";
import { relative, resolve, sep } from "node:path";
import fc from "fast-check";
import { checkFilePath, parseFilePath, resolveInside } from "../../../src/media/paths.ts";

const ROOT = "/srv/media/0190aaaa-bbbb-7ccc-8ddd-eeeeeeeeeeee";

/** Strings biased towards the characters that matter for traversal. */
const nasty = fc
  .array(
    fc.oneof(
      fc.constantFrom("..", ".", "/", "\\", "\0", "%2e", "%2f", "%5c", "~", ":", "C:", "\u202e", "\u0085", "\n", "..."),
      fc.string({ minLength: 0, maxLength: 6 }),
      fc.string({ unit: "grapheme", maxLength: 4 }),
    ),
    { maxLength: 12 },
  )
  .map((parts) => parts.join(""));

describe("file path safety", () => {
  test("no accepted path ever resolves outside the project's folder (fast-check)", () => {
    fc.assert(
      fc.property(nasty, (candidate) => {
        for (const check of [checkFilePath(candidate), parseFilePath(candidate)]) {
          if (!check.ok) continue;
          const target = resolve(ROOT, check.path);
          expect(target.startsWith(ROOT + sep)).toBe(true);
          expect(relative(ROOT, target).split(sep)).not.toContain("..");
          expect(resolveInside(ROOT, check.path)).toBe(target);
        }
      }),
      { numRuns: 5000 },
    );
  });

  test("ordinary nested paths with unicode are accepted unchanged", () => {
    fc.assert(
      fc.property(
        fc.array(fc.stringMatching(/^[A-Za-z0-9_\-é漢][A-Za-z0-9_.\-é漢 ]{0,20}$/), { minLength: 1, maxLength: 5 }),
        (segments) => {
          fc.pre(segments.every((s) => s !== "." && s !== ".."));
          const path = segments.join("/");
          expect(checkFilePath(path)).toEqual({ ok: true, path });
        },
      ),
    );
  });

  test("each rule has its own code", () => {
    const cases: [string, string][] = [
      ["", "path_empty"],
      ["a/../b", "path_dot_segment"],
      ["./a", "path_dot_segment"],
      ["/etc/passwd", "path_absolute"],
      ["C:/windows", "path_absolute"],
      ["a\\b", "path_contains_backslash"],
      ["a\0b", "path_contains_nul"],
      ["a\u001bb", "path_contains_control_character"],
      ["a\u0085b", "path_contains_control_character"],
      ["a//b", "path_empty_segment"],
      ["a/", "path_empty_segment"],
      ["é".repeat(128), "path_segment_too_long"],
      [`${"ab/".repeat(400)}c`, "path_too_long"],
    ];
    for (const [path, code] of cases) {
      const check = checkFilePath(path);
      expect([path.slice(0, 20), check.ok ? "ok" : check.code]).toEqual([path.slice(0, 20), code]);
    }
    expect(checkFilePath("é".repeat(127)).ok).toBe(true);
    expect(parseFilePath("%E0%A4%A")).toMatchObject({ ok: false, code: "path_bad_encoding" });
    expect(parseFilePath("a%2F..%2Fb")).toMatchObject({ ok: false, code: "path_dot_segment" });
    expect(parseFilePath("caf%C3%A9/menu.pdf")).toEqual({ ok: true, path: "café/menu.pdf" });
  });

  test("resolveInside refuses escapes even if called without the checks", () => {
    expect(() => resolveInside(ROOT, "../other")).toThrow();
    expect(() => resolveInside(ROOT, "/etc")).toThrow();
    expect(() => resolveInside(ROOT, "")).toThrow();
  });
});
