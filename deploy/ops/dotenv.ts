// A dotenv parser for `secrets import`. Why not the `dotenv` package: its parse() skips a line it cannot read
// without a word, so a typo would import a partial set and report success; here every bad line is an error with
// its line number, and the error never quotes a value (these are secrets).
//
// The syntax is the common ground of dotenv, docker compose and the shell:
//   # comment                     blank lines and comment lines are skipped
//   export NAME=value             `export ` is allowed and ignored
//   NAME=value  # comment         unquoted: trimmed; ` #` (whitespace, then #) starts a comment
//   NAME='a # literal $x'         single quotes: taken as written, no escapes, may span lines
//   NAME="line\nnext \"q\" #x"   double quotes: \n \r \t \" \\ \$ \' and \` escapes, `#` is text, may span lines
// Names are secret names: letters, digits and _, not starting with a digit. A name given twice is an error (a
// silent "last one wins" hides mistakes). No `${VAR}` expansion: values are taken as written.

export interface DotenvEntry {
  name: string;
  value: string;
  /** 1-based line where the entry starts. */
  line: number;
}

export interface DotenvProblem {
  line: number;
  /** What is wrong, without the value. */
  message: string;
}

export type DotenvResult = { ok: true; entries: DotenvEntry[] } | { ok: false; problems: DotenvProblem[] };

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** What could be meant as a name: shown in messages only when it is one (a secret is never echoed). */
const NAME_LIKE = /^[A-Za-z0-9_.-]+/;
const ESCAPES: Record<string, string> = { n: "\n", r: "\r", t: "\t", '"': '"', "\\": "\\", $: "$", "'": "'", "`": "`" };

export function parseDotenv(input: string): DotenvResult {
  const text = input.replace(/^\uFEFF/, "").replace(/\r\n?/g, "\n");
  const entries: DotenvEntry[] = [];
  const problems: DotenvProblem[] = [];
  const seen = new Map<string, number>();
  let pos = 0;
  let line = 1;

  /** Moves to the start of the next line. */
  const skipLine = () => {
    const end = text.indexOf("\n", pos);
    pos = end === -1 ? text.length : end + 1;
    line++;
  };
  const skipBlanks = () => {
    while (text[pos] === " " || text[pos] === "\t") pos++;
  };

  while (pos < text.length) {
    const startLine = line;
    skipBlanks();
    if (text[pos] === "\n" || text[pos] === "#" || pos >= text.length) {
      skipLine();
      continue;
    }
    if (text.startsWith("export", pos) && (text[pos + 6] === " " || text[pos + 6] === "\t")) {
      pos += 6;
      skipBlanks();
    }
    const nameMatch = NAME_LIKE.exec(
      text.slice(pos, text.indexOf("\n", pos) === -1 ? undefined : text.indexOf("\n", pos)),
    );
    const name = nameMatch?.[0] ?? "";
    pos += name.length;
    skipBlanks();
    if (name === "" || text[pos] !== "=") {
      problems.push({ line: startLine, message: "expected NAME=VALUE" });
      skipLine();
      continue;
    }
    pos++;
    if (!NAME.test(name)) {
      problems.push({
        line: startLine,
        message: `${name} is not a secret name (letters, digits and _, not starting with a digit)`,
      });
      skipLine();
      continue;
    }
    const valueStart = pos;
    skipBlanks();
    const spaced = pos > valueStart;

    let value: string;
    const quote = text[pos];
    if (quote === '"' || quote === "'") {
      pos++;
      let out = "";
      let closed = false;
      while (pos < text.length) {
        const ch = text[pos]!;
        if (ch === quote) {
          closed = true;
          pos++;
          break;
        }
        if (ch === "\n") line++;
        if (ch === "\\" && quote === '"' && pos + 1 < text.length) {
          const next = text[pos + 1]!;
          const mapped = ESCAPES[next];
          if (mapped !== undefined) {
            out += mapped;
            pos += 2;
            continue;
          }
        }
        out += ch;
        pos++;
      }
      if (!closed) {
        problems.push({
          line: startLine,
          message: `${name}: the ${quote === '"' ? "double" : "single"} quote opened here is never closed`,
        });
        break;
      }
      skipBlanks();
      if (pos < text.length && text[pos] !== "\n" && text[pos] !== "#") {
        problems.push({ line, message: `${name}: unexpected text after the closing quote (quote the whole value)` });
        skipLine();
        continue;
      }
      value = out;
      skipLine();
    } else {
      const end = text.indexOf("\n", pos);
      const raw = text.slice(pos, end === -1 ? text.length : end);
      // `NAME= # note` is empty with a comment; `NAME=#x` is the value "#x" (dotenv does the same).
      const comment = spaced && raw.startsWith("#") ? 0 : raw.search(/[ \t]#/);
      value = (comment === -1 ? raw : raw.slice(0, comment)).trim();
      skipLine();
    }

    const first = seen.get(name);
    if (first !== undefined) {
      problems.push({ line: startLine, message: `${name} is already set on line ${first}` });
      continue;
    }
    seen.set(name, startLine);
    entries.push({ name, value, line: startLine });
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, entries };
}
