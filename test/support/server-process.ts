/**
 * The real entry point (`bun src/server.ts`) as a child process: started with a given environment, its JSON
 * log lines collected, signalled like Fly signals a machine.
 * @module
 */
import type { Subprocess } from "bun";

const root = new URL("../../", import.meta.url).pathname;

const running = new Set<Subprocess>();

/** For afterAll: a test that failed before signalling its server must not leave it running after the run. */
export function killLeftoverServers(): void {
  for (const child of running) child.kill("SIGKILL");
}

export type LogRecord = Record<string, unknown>;

export interface ServerProcess {
  child: Subprocess<"ignore", "pipe", "pipe">;
  /** Every JSON log line so far. */
  logs: LogRecord[];
  /** Resolves once stdout has ended (the process exited) and every line is in `logs`. */
  logsComplete: Promise<void>;
  /** Resolves with the first log line that matches (already seen or still to come). */
  waitForLog(match: (record: LogRecord) => boolean): Promise<LogRecord>;
}

export interface ListeningServer extends ServerProcess {
  url: string;
  port: number;
}

/** Spawns the server (or another entry that logs the same way) with only PATH, HOME and `env`; does not wait for it to listen. */
export function spawnServer(env: Record<string, string>, entry = "src/server.ts"): ServerProcess {
  const child = Bun.spawn(["bun", entry], {
    cwd: root,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/root", ...env },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  running.add(child);
  void child.exited.then(() => running.delete(child));
  const logs: LogRecord[] = [];
  const waiters: { match: (record: LogRecord) => boolean; resolve: (record: LogRecord) => void }[] = [];
  const ended = (async () => {
    const decoder = new TextDecoder();
    let buffered = "";
    for await (const chunk of child.stdout) {
      buffered += decoder.decode(chunk, { stream: true });
      const lines = buffered.split("\n");
      buffered = lines.pop() ?? "";
      for (const line of lines) {
        if (line.trim() === "") continue;
        const record = JSON.parse(line) as LogRecord;
        logs.push(record);
        for (const waiter of waiters.filter((w) => w.match(record))) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve(record);
        }
      }
    }
  })();
  return {
    child,
    logs,
    logsComplete: ended,
    waitForLog(match) {
      const seen = logs.find(match);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        waiters.push({ match, resolve });
        void ended.then(() => reject(new Error(`server exited (${child.exitCode}) before the expected log line`)));
      });
    },
  };
}

/** Spawns the server on a free port and waits for its "listening" line. */
export async function startServerProcess(env: Record<string, string>, entry?: string): Promise<ListeningServer> {
  const server = spawnServer({ PORT: "0", ...env }, entry);
  const listening = await server.waitForLog((r) => r.msg === "listening");
  const url = String(listening.url);
  return { ...server, url, port: Number(new URL(url).port) };
}
