// DESIGN.md: "No message sends a user to flyctl: every hint names a Flightdeck command (or the Fly dashboard
// for the one organization token)." This reads every string the code can print (string and template literals
// in deploy/ and lib/, parsed with the TypeScript compiler, so comments citing flyctl's behaviour are not
// messages) and every string in the workflows (parsed YAML: run lines, echo'd notices, names), and fails on
// anything that tells a user to run a flyctl command.
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import ts from "typescript";
import { parse } from "yaml";

const ROOT = join(import.meta.dir, "..", "..");

/** flyctl's command words (lower case, as typed). */
const FLYCTL_COMMANDS =
  "apps|auth|certs|console|deploy|dig|doctor|ips|launch|logs|machine|machines|mpg|orgs|postgres|redis|releases|scale|secrets|ssh|status|tokens|volumes|wireguard";
/**
 * An instruction to run flyctl: `fly <command>` / `flyctl <command>` after a verb that tells the reader to
 * run it ("check its logs with `fly logs`", "run flyctl certs", "see `fly logs -i`") or in parentheses as
 * the thing to do ("(fly tokens create deploy)"). A mention of what flyctl does ("during a flyctl deploy",
 * "flyctl runs it on `fly launch` only") is a citation, not an instruction.
 */
const FLYCTL_INSTRUCTION = new RegExp(
  String.raw`(?:\b(?:[Rr]un|[Uu]se|[Uu]sing|[Ww]ith|via|[Ss]ee|[Tt]ry|[Ee]xecute|[Tt]ype)\b[\s:]*[\`'"]?|\(\s*\`?)(?:fly|flyctl)\s+(?:${FLYCTL_COMMANDS})\b`,
);

function files(dir: string, ext: RegExp): string[] {
  return readdirSync(join(ROOT, dir), { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && ext.test(entry.name))
    .map((entry) => join(entry.parentPath, entry.name));
}

/** Every string the module could print: string literals and the text parts of template literals. */
export function stringsOf(source: string, fileName = "x.ts"): string[] {
  const file = ts.createSourceFile(fileName, source, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  const found: string[] = [];
  const visit = (node: ts.Node) => {
    if (
      ts.isStringLiteral(node) ||
      ts.isNoSubstitutionTemplateLiteral(node) ||
      ts.isTemplateHead(node) ||
      ts.isTemplateMiddle(node) ||
      ts.isTemplateTail(node)
    ) {
      found.push(node.text);
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return found;
}

function yamlStrings(value: unknown, out: string[] = []): string[] {
  if (typeof value === "string") out.push(value);
  else if (Array.isArray(value)) for (const item of value) yamlStrings(item, out);
  else if (value && typeof value === "object")
    for (const [key, item] of Object.entries(value)) yamlStrings(item, out.concat(key));
  return out;
}

describe("no message tells a user to run flyctl", () => {
  test("the detector catches instructions and lets citations and names through", () => {
    for (const bad of [
      "check its logs with `fly logs -i 1`",
      "create one with `fly tokens create deploy`",
      "run flyctl certs add x",
      "(fly ssh console)",
      "Use `fly ips` commands",
      "(see `fly logs -i 1`)",
    ]) {
      expect(bad).toMatch(FLYCTL_INSTRUCTION);
    }
    for (const fine of [
      "fly.toml",
      "bun deploy/run.ts logs --machine 1",
      "the Fly proxy",
      "no flyctl, no Docker daemon",
      "deploy to fly",
      "during a flyctl deploy",
      "flyctl runs it on `fly launch` only",
      "works with Fly machines",
    ]) {
      expect(fine).not.toMatch(FLYCTL_INSTRUCTION);
    }
    // Comments are citations, not messages; strings in any position are messages.
    expect(stringsOf("// flyctl does `fly logs` here\nconst a = `see ${x} with fly logs`;")).toEqual([
      "see ",
      " with fly logs",
    ]);
  });

  test("deploy/ and lib/: no string literal", () => {
    const offenders: string[] = [];
    for (const path of [...files("deploy", /\.ts$/), ...files("lib", /\.ts$/)]) {
      for (const text of stringsOf(readFileSync(path, "utf8"), path)) {
        if (FLYCTL_INSTRUCTION.test(text)) offenders.push(`${relative(ROOT, path)}: ${text.slice(0, 160)}`);
      }
    }
    expect(offenders).toEqual([]);
  });

  test(".github/: no workflow string (run lines, notices, names)", () => {
    const offenders: string[] = [];
    const workflows = files(".github", /\.ya?ml$/);
    expect(workflows.length).toBeGreaterThan(0);
    for (const path of workflows) {
      for (const text of yamlStrings(parse(readFileSync(path, "utf8")))) {
        for (const line of text.split("\n"))
          if (FLYCTL_INSTRUCTION.test(line) && !line.trimStart().startsWith("#"))
            offenders.push(`${relative(ROOT, path)}: ${line.trim().slice(0, 160)}`);
      }
    }
    expect(offenders).toEqual([]);
  });
});
