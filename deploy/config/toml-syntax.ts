/**
 * Where a TOML syntax error is: line, column and the line's text. Bun.TOML.parse says what is wrong but not where
 * (its error's line/column point at the caller's JavaScript, not the TOML), so the place is found by re-parsing
 * prefixes: the first line whose prefix fails with a real error (not "input ended early") holds the error, and
 * within it the shortest failing prefix gives the column. An error that is only "ended early" (an array or string
 * never closed) is placed where the unclosed construct starts: the line after the last prefix that parses.
 * Quadratic in lines, which fly.toml files (tens to a few hundred lines) afford.
 *
 * @module
 */

export type TomlSyntaxError = {
  /** 1-based. */
  line: number;
  /** 1-based, in characters. */
  column: number;
  /** The line as written (without its newline). */
  text: string;
  /** Bun's message, without its "TOML Parse error: " prefix. */
  message: string;
};

function parseError(text: string): string | undefined {
  try {
    Bun.TOML.parse(text);
    return undefined;
  } catch (err) {
    return (err instanceof Error ? err.message : String(err))
      .replace(/^TOML Parse error:\s*/, "")
      .replace("found (0x0A)", "found the end of the line");
  }
}

/** Messages meaning "the input stopped before the construct closed", which a longer prefix may complete. */
function incomplete(message: string): boolean {
  if (/newlines must be escaped/.test(message)) return false;
  return /end of file|Unterminated|Missing value/i.test(message);
}

function firstNonSpace(line: string): number {
  const i = line.search(/\S/);
  return i === -1 ? 1 : i + 1;
}

/** The opening quote of the string left open on this line (after the `=`), 1-based. */
function openQuote(line: string): number | undefined {
  const eq = line.indexOf("=");
  const rest = line.slice(eq + 1);
  const i = rest.search(/["']/);
  return i === -1 ? undefined : eq + 1 + i + 1;
}

/** The syntax error in `text`, located; undefined when it parses. */
export function locateTomlError(text: string): TomlSyntaxError | undefined {
  const whole = parseError(text);
  if (whole === undefined) return undefined;
  const lines = text.split(/\r?\n/);
  let lastGood = 0;
  let prefix = "";
  for (let k = 0; k < lines.length; k++) {
    const line = lines[k] as string;
    const before = prefix;
    prefix += `${line}\n`;
    const message = parseError(prefix);
    if (message === undefined) {
      lastGood = k + 1;
      continue;
    }
    if (incomplete(message)) continue;
    return { line: k + 1, column: column(before, line, message), text: line, message };
  }
  const line = lines[lastGood] ?? "";
  return { line: lastGood + 1, column: firstNonSpace(line), text: line, message: whole };
}

function column(before: string, line: string, message: string): number {
  if (/Unterminated string/.test(message)) return openQuote(line) ?? line.length + 1;
  for (let j = 1; j <= line.length; j++) {
    const m = parseError(before + line.slice(0, j));
    if (m !== undefined && !incomplete(m)) return j;
  }
  return line.length + 1;
}

/** "fly.toml:2:5: not valid TOML: <message>" with the line and a caret under the column. */
export function formatTomlError(file: string, e: TomlSyntaxError): string {
  const gutter = `${e.line} | `;
  return [
    `${file}:${e.line}:${e.column}: not valid TOML: ${e.message}`,
    `  ${gutter}${e.text}`,
    `  ${" ".repeat(gutter.length - 2)}| ${" ".repeat(Math.max(0, e.column - 1))}^`,
  ].join("\n");
}
