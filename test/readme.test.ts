// README is followed by new users command by command, so it is checked the way they would use it: every
// `bun deploy/run.ts ...` and `bun run deploy ...` line in its sh code blocks must be a command, sub-command and
// flags that the CLI's own parser accepts (deploy/cli/commands.ts, the table the usage text and the workflow
// tests also read); "From zero to production" must walk the whole path in order; and no line may send a user to
// flyctl.
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { isCommandName, parseArgs } from "../deploy/cli/args.ts";
import { VERB_FLAGS } from "../deploy/ops/db/command.ts";

const README = readFileSync(join(import.meta.dir, "..", "README.md"), "utf8");

/**
 * Commands README documents that another branch adds to the table (logs, certs, exec: issue 11's other half).
 * Until that branch is merged their lines cannot be parsed here; once it is, they are checked like the rest.
 */
const ADDED_ELSEWHERE = new Set(["logs", "certs", "exec"]);

interface Invocation {
  line: string;
  args: string[];
}

/** The bodies of ```sh blocks, with `\`-continued lines joined. */
function shellLines(markdown: string): string[] {
  const lines: string[] = [];
  for (const match of markdown.matchAll(/^[ \t]*```(?:sh|bash|shell)\n([\s\S]*?)^[ \t]*```/gm)) {
    const body = match[1]!.replace(/\\\n/g, " ");
    for (const line of body.split("\n")) if (line.trim() !== "") lines.push(line.trim());
  }
  return lines;
}

/** Shell words of one line: quotes and `$(...)` stay inside their word; a comment ends the line. */
function words(line: string): string[] {
  const out: string[] = [];
  let current = "";
  let i = 0;
  const flush = () => {
    if (current !== "") out.push(current);
    current = "";
  };
  while (i < line.length) {
    const ch = line[i]!;
    if (/\s/.test(ch)) {
      flush();
      i++;
    } else if (ch === "#" && current === "") {
      break;
    } else if (ch === '"' || ch === "'") {
      const end = line.indexOf(ch, i + 1);
      current += line.slice(i + 1, end === -1 ? undefined : end);
      i = end === -1 ? line.length : end + 1;
    } else if (ch === "$" && line[i + 1] === "(") {
      const end = line.indexOf(")", i);
      current += line.slice(i, end === -1 ? undefined : end + 1);
      i = end === -1 ? line.length : end + 1;
    } else {
      current += ch;
      i++;
    }
  }
  flush();
  return out;
}

const SHELL_STOP = /^(?:\d?>>?.*|<|\|\|?|&&|;|&)$/;

function invocations(lines: readonly string[]): Invocation[] {
  const found: Invocation[] = [];
  for (const line of lines) {
    const tokens = words(line);
    for (let i = 0; i + 1 < tokens.length; i++) {
      if (tokens[i] !== "bun") continue;
      let args: string[];
      if (tokens[i + 1] === "deploy/run.ts") args = tokens.slice(i + 2);
      else if (tokens[i + 1] === "run" && tokens[i + 2] === "deploy") args = ["deploy", ...tokens.slice(i + 3)];
      else continue;
      const stop = args.findIndex((t) => SHELL_STOP.test(t));
      found.push({ line, args: stop === -1 ? args : args.slice(0, stop) });
      // A `bun run migrate` after exec's `--` is exec's argument, not another invocation.
      break;
    }
  }
  return found;
}

const all = invocations(shellLines(README));

describe("README's command lines", () => {
  test("the reader finds them", () => {
    expect(words('bun deploy/run.ts secrets set SECRET_KEY=$(openssl rand -hex 32) A="b c" # note')).toEqual([
      "bun",
      "deploy/run.ts",
      "secrets",
      "set",
      "SECRET_KEY=$(openssl rand -hex 32)",
      "A=b c",
    ]);
    expect(invocations(["bun deploy/run.ts token create | gh secret set X"])).toEqual([
      { line: "bun deploy/run.ts token create | gh secret set X", args: ["token", "create"] },
    ]);
    expect(invocations(["bun run deploy -- --x", "bun run start"]).map((i) => i.args)).toEqual([
      ["deploy", "--", "--x"],
    ]);
    expect(all.length).toBeGreaterThanOrEqual(20);
  });

  test("every one is accepted by the CLI's parser (commands, sub-commands and flags exist)", () => {
    const refused: string[] = [];
    for (const { line, args } of all) {
      if (!isCommandName(args[0] ?? "") && ADDED_ELSEWHERE.has(args[0] ?? "")) continue;
      try {
        const parsed = parseArgs(args);
        // `db` lists the union of its verbs' flags; each verb takes only its own.
        if (parsed.command === "db") {
          const allowed = new Set(["config", "json", ...(VERB_FLAGS[parsed.subcommand ?? ""] ?? [])]);
          const stray = Object.keys(parsed.flags).filter((flag) => !allowed.has(flag));
          if (stray.length > 0) throw new Error(`db ${parsed.subcommand} takes no --${stray.join(", --")}`);
        }
      } catch (error) {
        refused.push(`${line}\n  -> ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    expect(refused).toEqual([]);
  });

  test("only the commands of the other half of issue 11 may be missing, and only until it is merged", () => {
    const unknown = [...new Set(all.map((i) => i.args[0] ?? "").filter((name) => !isCommandName(name)))];
    expect(unknown.filter((name) => !ADDED_ELSEWHERE.has(name))).toEqual([]);
  });

  test("no line tells a user to run flyctl", () => {
    for (const line of shellLines(README))
      expect({ line, flyctl: /^(?:fly|flyctl)\s/.test(line) || /\|\s*(?:fly|flyctl)\s/.test(line) }).toEqual({
        line,
        flyctl: false,
      });
    expect(README).not.toMatch(
      /`(?:fly|flyctl) (?:tokens|logs|postgres|pg|mpg|secrets|certs|ssh|deploy|launch|apps)\b/,
    );
  });
});

describe("From zero to production", () => {
  const start = README.indexOf("## From zero to production");
  const section = README.slice(start, README.indexOf("\n## ", start + 1));
  const steps = invocations(shellLines(section)).map((i) =>
    i.args
      .filter((a) => !a.startsWith("--") || a === "--")
      .slice(0, 2)
      .join(" "),
  );

  test("walks the whole path, in order", () => {
    expect(start).toBeGreaterThan(-1);
    expect(section).toContain("npm install -g bun");
    expect(section).toContain("bun install");
    expect(section).toContain("organization token");
    const path = [
      "db create",
      "db attach",
      "secrets set",
      "secrets import",
      "deploy",
      "token create",
      "certs add",
      "logs",
    ];
    const positions = path.map((step) => steps.indexOf(step));
    expect(positions.every((p) => p >= 0)).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
  });

  test("the CI token goes to the production environment, not to the terminal's scrollback", () => {
    expect(section).toMatch(
      /bun deploy\/run\.ts token create[^\n]*\| gh secret set FLY_API_TOKEN_PRODUCTION --env production/,
    );
    // The production secret's name is not the previews' organization-token name (GitHub would fall back to it).
    expect(section).not.toMatch(/gh secret set FLY_API_TOKEN --env production/);
  });
});
