// Runs `bun deploy/run.ts ...` as a real process against a fake Fly API, in a directory holding the project's
// fly.toml and fly.preview.toml with wait timeouts short enough for tests.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FakeFly } from "../fakes/fly-machines.ts";

const ROOT = join(import.meta.dir, "..", "..");
const RUN = join(ROOT, "deploy", "run.ts");

export interface Finished {
  code: number;
  stdout: string;
  stderr: string;
  endedAt: number;
}

export interface CliDir {
  dir: string;
  run(argv: string[], env?: Record<string, string>): Promise<Finished>;
  spawn(argv: string[], env?: Record<string, string>): ReturnType<typeof Bun.spawn>;
  remove(): void;
}

export async function cliDir(fly: FakeFly, timeouts: { wait?: string } = {}): Promise<CliDir> {
  const dir = mkdtempSync(join(tmpdir(), "flightdeck-cli-"));
  for (const name of ["fly.toml", "fly.preview.toml"]) {
    const text = (await Bun.file(join(ROOT, name)).text())
      .replace(/wait_timeout = "[^"]*"/, `wait_timeout = "${timeouts.wait ?? "10s"}"`)
      .replace(/release_command_timeout = "[^"]*"/, 'release_command_timeout = "10s"');
    writeFileSync(join(dir, name), text);
  }
  const spawn = (argv: string[], env: Record<string, string> = {}) =>
    Bun.spawn([process.execPath, RUN, ...argv], {
      cwd: dir,
      env: {
        PATH: process.env.PATH ?? "",
        HOME: process.env.HOME ?? dir,
        FLY_API_TOKEN: fly.token,
        FLY_FLAPS_BASE_URL: fly.url,
        // The client's limiter runs on the fake's clock (1000x fast for the instant fake, test/setup.ts).
        FLIGHTDECK_FLY_CLOCK_SCALE: String(fly.clock?.scale ?? 0.001),
        ...env,
      },
      stdout: "pipe",
      stderr: "pipe",
    });
  return {
    dir,
    spawn,
    async run(argv, env) {
      const proc = spawn(argv, env);
      const [stdout, stderr, code] = await Promise.all([
        new Response(proc.stdout as ReadableStream).text(),
        new Response(proc.stderr as ReadableStream).text(),
        proc.exited,
      ]);
      return { code, stdout, stderr, endedAt: Date.now() };
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
