// Where a command's words go. DESIGN.md's CLI contract: human progress on stderr (live on a TTY, plain
// lines otherwise, `::group::` blocks under GitHub Actions), and with --json exactly one JSON object on
// stdout at the end, so `bun deploy/run.ts deploy --json | jq` always parses.

import { isatty } from "node:tty";

/** The process edges a command talks to; tests pass their own to run the CLI in-process. */
export interface CliIo {
  env: Record<string, string | undefined>;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  isTTY?: boolean;
  /** Reads all of standard input (`secrets import` without --file); absent when there is none. */
  readStdin?: () => Promise<string>;
  stdinIsTTY?: boolean;
  /** Aborts the command between API calls (Ctrl-C, or a test simulating a killed deploy). */
  signal?: AbortSignal;
}

export interface Output {
  /** One progress line ("creating machine in ewr"). */
  step(message: string): void;
  warn(message: string): void;
  /** A named phase; under GitHub Actions it folds into a `::group::` block. */
  group<T>(title: string, run: () => Promise<T>): Promise<T>;
  /** The final machine-readable result: printed on stdout only with --json. */
  result(value: unknown): void;
  readonly json: boolean;
}

export function processIo(): CliIo {
  return {
    env: process.env,
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    isTTY: Boolean(process.stderr.isTTY),
    readStdin: () => Bun.stdin.text(),
    // isatty(0) rather than process.stdin: touching process.stdin opens a stream on fd 0 for every command.
    stdinIsTTY: isatty(0),
  };
}

export function createOutput(io: CliIo, options: { json: boolean }): Output {
  const actions = io.env.GITHUB_ACTIONS === "true";
  const live = !actions && io.isTTY === true;
  const started = Date.now();
  const line = (text: string) => io.stderr(`${text}\n`);
  const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)}s`;

  return {
    json: options.json,
    step(message) {
      // On a terminal a dim elapsed-time prefix gives a sense of progress without cursor tricks
      // that would garble when stderr is later piped; elsewhere lines stay plain for log viewers.
      line(live ? `\x1b[2m${elapsed().padStart(6)}\x1b[0m ${message}` : message);
    },
    warn(message) {
      line(actions ? `::warning::${escapeCommand(message)}` : `warning: ${message}`);
    },
    async group(title, run) {
      if (actions) line(`::group::${escapeCommand(title)}`);
      else line(live ? `\x1b[1m==> ${title}\x1b[0m` : `==> ${title}`);
      try {
        return await run();
      } finally {
        if (actions) line("::endgroup::");
      }
    },
    result(value) {
      if (options.json) io.stdout(`${JSON.stringify(value)}\n`);
    },
  };
}

/** GitHub's workflow-command escaping, so a message cannot inject its own `::command::`. */
function escapeCommand(text: string): string {
  return text.replace(/%/g, "%25").replace(/\r/g, "%0D").replace(/\n/g, "%0A");
}
