// `exec [--machine ID] [--timeout S] -- CMD ARGS...`: one command on one started machine of the app, through
// the Machines API (`POST /v1/apps/{app}/machines/{id}/exec`), instead of `fly ssh console`. Its stdout and
// stderr go to ours, and we exit with its exit code, as ssh does (so a command's own 1 or 2 reads as
// Flightdeck's "failed" or "usage"; the "error:" line on stderr tells Flightdeck's own errors apart).
//
// The command runs as an argv (`command: [...]`), not through a shell: `exec -- sh -c '...'` when a shell
// is wanted. Only a started machine can run it: a stopped one would need a start, which is a change to the
// fleet that this command does not make behind the user's back.

import type { FlyClient } from "../../lib/fly/client.ts";
import { isFlyApiError } from "../../lib/fly/errors.ts";
import type { Machine, MachineExecResponse } from "../../lib/fly/types.ts";
import { type CommandContext, flyClient, loadConfig } from "./context.ts";
import { CommandOutcome } from "./outcome.ts";
import { DeployError, usageError } from "../deploy-error.ts";
import type { DeployConfig } from "../config/flytoml.ts";
import { DEFAULT_PROCESS_GROUP, METADATA, RELEASE_COMMAND_GROUP } from "../machine/machine-config.ts";
import { splitCommand } from "../config/shell-words.ts";

export const DEFAULT_EXEC_TIMEOUT_SECONDS = 60;
const MAX_EXEC_TIMEOUT_SECONDS = 3600;
const MACHINE_ID = /^[A-Za-z0-9]{1,64}$/;

export async function execCommand(ctx: CommandContext): Promise<CommandOutcome> {
  if (ctx.args.rest.length > 0 && ctx.args.rest[0]!.trim() === "")
    throw usageError("exec: the command after -- is empty");
  const timeout = ctx.args.flags.timeout ?? DEFAULT_EXEC_TIMEOUT_SECONDS;
  if (typeof timeout !== "number" || timeout < 1 || timeout > MAX_EXEC_TIMEOUT_SECONDS) {
    throw usageError(`--timeout must be between 1 and ${MAX_EXEC_TIMEOUT_SECONDS} seconds (got ${timeout})`);
  }
  const wanted = ctx.args.flags.machine;
  if (typeof wanted === "string" && !MACHINE_ID.test(wanted)) {
    throw usageError(
      `--machine must be a machine id such as 148ed193b95d89 (got ${JSON.stringify(wanted.slice(0, 80))})`,
    );
  }
  const config = await loadConfig(ctx.args);
  const command = ctx.args.rest.length > 0 ? [...ctx.args.rest] : consoleCommand(config);
  const client = flyClient(ctx.io);
  const machine = await chooseMachine(
    client,
    config.app,
    config.primaryRegion,
    typeof wanted === "string" ? wanted : undefined,
    ctx.io.signal,
  );
  ctx.output.step(`running ${displayCommand(command)} on machine ${machine.id} (${machine.region ?? "?"})`);
  const reply = await client.execMachine(
    config.app,
    machine.id!,
    { command, timeoutSeconds: timeout },
    { signal: ctx.io.signal },
  );
  const status = exitStatus(reply);
  if (!ctx.output.json) {
    if (reply.stdout) ctx.io.stdout(reply.stdout);
    if (reply.stderr) ctx.io.stderr(reply.stderr);
  }
  if (status.signal !== undefined) ctx.output.warn(`the command was killed by signal ${status.signal}`);
  ctx.output.step(`exit code ${status.code}`);
  return new CommandOutcome(status.code, {
    app: config.app,
    machine: machine.id,
    command,
    exit_code: status.code,
    exit_signal: status.signal ?? null,
    stdout: reply.stdout ?? "",
    stderr: reply.stderr ?? "",
  });
}

/**
 * The process exit status for an exec answer. fly-go's MachineExecResponse tags exit_code `omitempty`, so
 * "exited 0" can arrive as no exit_code at all: missing means 0 unless a signal is reported. A signal
 * without a code follows the shell's 128 + N. Codes outside 0..255 (flyd reports -1 for "none") become 1.
 */
export function exitStatus(reply: MachineExecResponse): { code: number; signal?: number } {
  const signal = typeof reply.exit_signal === "number" && reply.exit_signal > 0 ? reply.exit_signal : undefined;
  const code = typeof reply.exit_code === "number" ? reply.exit_code : undefined;
  if (code !== undefined && code >= 0 && code <= 255 && !(code === 0 && signal !== undefined))
    return { code, ...(signal !== undefined ? { signal } : {}) };
  if (signal !== undefined) return { code: Math.min(255, 128 + signal), signal };
  return { code: code === undefined ? 0 : 1 };
}

/**
 * The machine to run on: the one named by --machine, which must be started, or a started machine of the app's
 * main process group (primary region first). Release-command machines are never chosen: they are gone in
 * seconds.
 */
export async function chooseMachine(
  client: FlyClient,
  app: string,
  primaryRegion: string | undefined,
  wanted: string | undefined,
  signal?: AbortSignal,
): Promise<Machine> {
  let machines: Machine[];
  try {
    machines = wanted ? [await client.getMachine(app, wanted, { signal })] : await client.listMachines(app, { signal });
  } catch (error) {
    if (isFlyApiError(error) && error.status === 404) {
      throw new DeployError(
        "preflight_failed",
        wanted
          ? `machine ${wanted} is not a machine of ${app}; bun deploy/run.ts status lists them`
          : `app ${app} does not exist: deploy it first (bun deploy/run.ts deploy)`,
        2,
        { app },
      );
    }
    throw error;
  }
  if (wanted) {
    const machine = machines[0]!;
    if (machine.state !== "started") {
      throw new DeployError(
        "preflight_failed",
        `machine ${wanted} is ${machine.state ?? "in an unknown state"}; exec needs a started machine. ${wakeHint(app)}`,
        2,
        { app, machineId: wanted },
      );
    }
    return machine;
  }
  const group = (m: Machine) => m.config?.metadata?.[METADATA.processGroup];
  const started = machines.filter((m) => m.state === "started" && m.id && group(m) !== RELEASE_COMMAND_GROUP);
  const ranked = [...started].sort((a, b) => rank(a) - rank(b) || (a.id ?? "").localeCompare(b.id ?? ""));
  function rank(m: Machine): number {
    return (group(m) === DEFAULT_PROCESS_GROUP ? 0 : 2) + (m.region === primaryRegion ? 0 : 1);
  }
  const chosen = ranked[0];
  if (!chosen) {
    const states = machines.map((m) => `${m.id} ${m.state}`).join(", ") || "no machines";
    throw new DeployError("preflight_failed", `no started machine in ${app} (${states}). ${wakeHint(app)}`, 2, { app });
  }
  return chosen;
}

function wakeHint(app: string): string {
  // fly.toml autostart: the Fly proxy starts a stopped machine when a request arrives (DESIGN.md fleet shapes).
  return `The Fly proxy starts stopped machines on demand: request https://${app}.fly.dev/health once, then run exec again (bun deploy/run.ts status shows machine states).`;
}

/**
 * With nothing after `--`, fly.toml's `console_command` is the command (flyctl runs it for `fly ssh console`
 * and `fly console`); without one there is nothing to run.
 */
function consoleCommand(config: DeployConfig): string[] {
  const words = config.consoleCommand === undefined ? null : splitCommand(config.consoleCommand);
  if (words === null || words.length === 0) {
    throw usageError(
      "exec needs the command after --, e.g. bun deploy/run.ts exec -- bun run migrate (or console_command in fly.toml)",
    );
  }
  return words;
}

/** The command as a reader would type it (for the progress line only; it is sent as an argv). */
export function displayCommand(argv: readonly string[]): string {
  return argv.map((word) => (/^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`)).join(" ");
}
