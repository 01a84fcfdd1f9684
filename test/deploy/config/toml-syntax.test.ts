/**
 * TOML syntax errors with line, column and the line's text (issue 21), on the project's real fly.toml and
 * fly.preview.toml broken the ways people break them: an unterminated string, a table header left open, a doubled
 * `=`, an array never closed, a key defined twice.
 *
 * @module
 */
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { parseDeployConfig } from "../../../deploy/config/flytoml.ts";
import { locateTomlError } from "../../../deploy/config/toml-syntax.ts";

const ROOT = join(import.meta.dir, "..", "..", "..");
const FLY = await Bun.file(join(ROOT, "fly.toml")).text();
const PREVIEW = await Bun.file(join(ROOT, "fly.preview.toml")).text();

/** The 1-based line of the first line matching `re` in `text`. */
function lineOf(text: string, re: RegExp): number {
  const i = text.split("\n").findIndex((l) => re.test(l));
  if (i === -1) throw new Error(`no line matches ${re}`);
  return i + 1;
}

describe("TOML syntax error locator", () => {
  test("the real files parse: no error to locate", () => {
    expect(locateTomlError(FLY)).toBeUndefined();
    expect(locateTomlError(PREVIEW)).toBeUndefined();
  });

  test("unterminated string: the line, the opening quote's column, the line's text", () => {
    const broken = FLY.replace('primary_region = "ewr"', 'primary_region = "ewr');
    const line = lineOf(broken, /^primary_region/);
    expect(locateTomlError(broken)).toEqual({
      line,
      column: 18,
      text: 'primary_region = "ewr',
      message: "Unterminated string; newlines must be escaped in basic strings",
    });
    const r = parseDeployConfig(broken, { path: "fly.toml" });
    expect(r.ok).toBe(false);
    expect(r.ok ? "" : r.problems[0]?.message).toBe(
      [
        `fly.toml:${line}:18: not valid TOML: Unterminated string; newlines must be escaped in basic strings`,
        `  ${line} | primary_region = "ewr`,
        `  ${" ".repeat(String(line).length + 1)}| ${" ".repeat(17)}^`,
      ].join("\n"),
    );
  });

  test("a table header left open", () => {
    const broken = FLY.replace("[env]", "[env");
    expect(locateTomlError(broken)).toMatchObject({
      line: lineOf(broken, /^\[env$/),
      column: 5,
      text: "[env",
      message: "Expected ']' to close a table header but found the end of the line",
    });
  });

  test("a doubled =", () => {
    const broken = PREVIEW.replace(/^app = /m, "app = = ");
    expect(locateTomlError(broken)).toMatchObject({
      line: lineOf(broken, /^app = = /),
      column: 7,
      message: "Expected a value but found '='",
    });
  });

  test("an array never closed is placed where it opens", () => {
    const broken = `${FLY}\n[[statics]]\n  guest_path = ["/app/public",\n`;
    const line = lineOf(broken, /guest_path = \["\/app\/public",$/);
    expect(locateTomlError(broken)).toMatchObject({ line, column: 3, text: '  guest_path = ["/app/public",' });
  });

  test("a key defined twice is found on its second definition", () => {
    const broken = FLY.replace('kill_signal = "SIGTERM"', 'kill_signal = "SIGTERM"\nkill_signal = "SIGINT"');
    expect(locateTomlError(broken)).toMatchObject({
      line: lineOf(broken, /^kill_signal = "SIGINT"/),
      text: 'kill_signal = "SIGINT"',
      message: "Cannot redefine key 'kill_signal'",
    });
  });
});
