// Shell-like word splitting for commands written in fly.toml.

/**
 * Splits a command into words like Go's google/shlex (used by flyctl for release_command and processes):
 * whitespace separates, single quotes are literal, double quotes allow \-escapes, `#` starts a comment.
 * Returns null on an unbalanced quote.
 */
export function splitCommand(command: string): string[] | null {
  const words: string[] = [];
  let cur = "";
  let inWord = false;
  let quote: "'" | '"' | null = null;
  for (let i = 0; i < command.length; i++) {
    const ch = command[i] as string;
    if (quote === "'") {
      if (ch === "'") quote = null;
      else cur += ch;
    } else if (quote === '"') {
      if (ch === '"') quote = null;
      else if (ch === "\\" && i + 1 < command.length && /["\\$`\n]/.test(command[i + 1] as string)) cur += command[++i];
      else cur += ch;
    } else if (/\s/.test(ch)) {
      if (inWord) words.push(cur);
      cur = "";
      inWord = false;
    } else if (ch === "#" && !inWord) {
      break;
    } else {
      inWord = true;
      if (ch === "'" || ch === '"') quote = ch;
      else if (ch === "\\" && i + 1 < command.length) cur += command[++i];
      else cur += ch;
    }
  }
  if (quote !== null) return null;
  if (inWord) words.push(cur);
  return words;
}
