// The dotenv parser behind `secrets import`: a table of inputs and what they mean, then a table of bad files and
// the line each problem is reported on, checking that no message ever contains a value.
import { describe, expect, test } from "bun:test";
import { parseDotenv } from "../../../deploy/ops/dotenv.ts";

function values(text: string): Record<string, string> {
  const result = parseDotenv(text);
  if (!result.ok) throw new Error(`unexpected problems: ${JSON.stringify(result.problems)}`);
  return Object.fromEntries(result.entries.map((e) => [e.name, e.value]));
}

describe("good files", () => {
  const cases: [string, string, Record<string, string>][] = [
    ["plain", "A=1\nB=two", { A: "1", B: "two" }],
    ["blank lines and comments", "\n# a comment\n  # indented comment\nA=1\n\n", { A: "1" }],
    ["export prefix", "export A=1\nexport\tB=2", { A: "1", B: "2" }],
    ["a name that starts with export", "exported=1", { exported: "1" }],
    ["spaces around =", "A = 1\n  B=  2  ", { A: "1", B: "2" }],
    ["empty values", "A=\nB=''\nC=\"\"", { A: "", B: "", C: "" }],
    ["inline comment after an unquoted value", "A=abc # note\nB=abc\t# tab note", { A: "abc", B: "abc" }],
    ["# without whitespace is part of an unquoted value", "A=abc#def\nB=#x", { A: "abc#def", B: "#x" }],
    ["only a comment after =", "A= # nothing here", { A: "" }],
    [
      "= inside the value",
      "URL=postgres://u:p@h/db?sslmode=require&x=1",
      { URL: "postgres://u:p@h/db?sslmode=require&x=1" },
    ],
    ["single quotes are literal", "A='a # b $HOME \\n'", { A: "a # b $HOME \\n" }],
    ["double quotes keep #", 'A="a # b" # real comment', { A: "a # b" }],
    ["double-quote escapes", 'A="l1\\nl2\\tT \\"q\\" back\\\\slash \\$HOME"', { A: 'l1\nl2\tT "q" back\\slash $HOME' }],
    ["unknown escape is kept", 'A="\\d\\w"', { A: "\\d\\w" }],
    [
      "multi-line double-quoted value",
      'KEY="-----BEGIN KEY-----\nabc\n-----END KEY-----"\nNEXT=1',
      { KEY: "-----BEGIN KEY-----\nabc\n-----END KEY-----", NEXT: "1" },
    ],
    ["multi-line single-quoted value", "A='x\ny'\nB=2", { A: "x\ny", B: "2" }],
    ["CRLF line endings", 'A=1\r\nB="x"\r\n', { A: "1", B: "x" }],
    ["a byte-order mark", "\uFEFFA=1", { A: "1" }],
    ["quotes inside an unquoted value stay", 'A=it"s', { A: 'it"s' }],
    ["no trailing newline", "A=1", { A: "1" }],
    ["lowercase and underscore names", "_a_1=x", { _a_1: "x" }],
  ];
  for (const [name, input, expected] of cases) {
    test(name, () => expect(values(input)).toEqual(expected));
  }

  test("entries carry the line they start on", () => {
    const result = parseDotenv('# c\nA=1\nB="x\ny"\nC=3');
    expect(result.ok && result.entries.map((e) => [e.name, e.line])).toEqual([
      ["A", 2],
      ["B", 3],
      ["C", 5],
    ]);
  });
});

describe("bad files: every problem, by line, without the value", () => {
  const SECRET = "hunter2-very-secret";
  const cases: [string, string, { line: number; message: RegExp }[]][] = [
    ["a line without =", `A=1\n${SECRET}\n`, [{ line: 2, message: /expected NAME=VALUE/ }]],
    ["a name with a dash", `MY-KEY=${SECRET}`, [{ line: 1, message: /MY-KEY is not a secret name/ }]],
    ["a name starting with a digit", `1A=${SECRET}`, [{ line: 1, message: /1A is not a secret name/ }]],
    ["a colon instead of =", `A: ${SECRET}`, [{ line: 1, message: /expected NAME=VALUE/ }]],
    [
      "an unterminated double quote",
      `A=1\nB="${SECRET}\nC=3\n`,
      [{ line: 2, message: /B: the double quote opened here is never closed/ }],
    ],
    [
      "an unterminated single quote",
      `B='${SECRET}`,
      [{ line: 1, message: /B: the single quote opened here is never closed/ }],
    ],
    [
      "text after the closing quote",
      `A="${SECRET}"tail`,
      [{ line: 1, message: /A: unexpected text after the closing quote/ }],
    ],
    [
      "text after a multi-line value is reported on its closing line",
      `A="x\n${SECRET}"tail`,
      [{ line: 2, message: /A: unexpected text/ }],
    ],
    ["a duplicate name", `A=1\nB=2\nA=${SECRET}`, [{ line: 3, message: /A is already set on line 1/ }]],
    [
      "several problems at once",
      `${SECRET}\nOK=1\nBAD-1=${SECRET}\nOK=2`,
      [
        { line: 1, message: /expected NAME=VALUE/ },
        { line: 3, message: /BAD-1 is not a secret name/ },
        { line: 4, message: /OK is already set on line 2/ },
      ],
    ],
  ];
  for (const [name, input, expected] of cases) {
    test(name, () => {
      const result = parseDotenv(input);
      expect(result.ok).toBe(false);
      if (result.ok) return;
      expect(result.problems.map((p) => p.line)).toEqual(expected.map((e) => e.line));
      for (const [i, problem] of result.problems.entries()) expect(problem.message).toMatch(expected[i]!.message);
      for (const problem of result.problems) expect(problem.message).not.toContain(SECRET);
    });
  }
});
