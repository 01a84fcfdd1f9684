// The deploy CLI: `bun deploy/run.ts <command>` (DESIGN.md "CLI contract"). Progress on stderr, one JSON
// object on stdout with --json, exit 0 done / 1 failed (the message says the fleet's state) / 2 usage,
// config or preflight (nothing changed). Importable: `main(argv, io)` runs it in-process for tests.

import { didYouMean, isCommandName, parseArgs, type ParsedArgs } from "./cli/args.ts";
import { commandUsage } from "./cli/help.ts";
import { COMMANDS, type CommandName, usageText } from "./cli/commands.ts";
import {
  deployCommand,
  destroyCommand,
  planCommand,
  rollbackCommand,
  scaleCommand,
  secretsCommand,
  statusCommand,
} from "./cli/handlers.ts";
import type { CommandContext } from "./ops/context.ts";
import { releasesCommand } from "./cli/commands/releases.ts";
import { CommandOutcome } from "./ops/outcome.ts";
import { certsCommand } from "./ops/certs.ts";
import { dbCommand } from "./ops/db/command.ts";
import { errorReport } from "./error-report.ts";
import { execCommand } from "./ops/exec.ts";
import { logsCommand } from "./ops/logs.ts";
import { createOutput, type CliIo, processIo } from "./output.ts";
import { tokenCommand } from "./ops/token.ts";

export { COMMANDS, usageText } from "./cli/commands.ts";
export { destroyApp } from "./ops/destroy.ts";
export { runDeploy, prepareDeploy, type DeployOptions, type DeployResult } from "./apply/deploy.ts";
export type { CliIo } from "./output.ts";

type Handler = (ctx: CommandContext) => Promise<unknown>;

const HANDLERS: Record<Exclude<CommandName, "image" | "preview">, Handler> = {
  deploy: deployCommand,
  plan: planCommand,
  status: statusCommand,
  releases: releasesCommand,
  scale: scaleCommand,
  rollback: rollbackCommand,
  secrets: secretsCommand,
  destroy: destroyCommand,
  db: dbCommand,
  token: tokenCommand,
  logs: logsCommand,
  certs: certsCommand,
  exec: execCommand,
};

export async function main(argv: readonly string[], io: CliIo = processIo()): Promise<number> {
  const early = await helpOrVersion(argv, io);
  if (early !== undefined) return early;
  let args: ParsedArgs;
  try {
    args = parseArgs(argv);
  } catch (error) {
    const name = argv[0] ?? "";
    // A usage error of a known command prints that command's usage, not the whole list.
    const usage = isCommandName(name) ? commandUsage(name) : usageText();
    io.stderr(`error: ${error instanceof Error ? error.message : String(error)}\n\n${usage}`);
    return 2;
  }
  if (args.command === "image" || args.command === "preview") return delegate(args.command, argv, io);

  const json = args.flags.json === true;
  const output = createOutput(io, { json });
  try {
    const result = await HANDLERS[args.command]({ args, io, output });
    if (result instanceof CommandOutcome) {
      if (result.json !== undefined) output.result(result.json);
      return result.exitCode;
    }
    output.result(result);
    return 0;
  } catch (error) {
    return report(error, io, json);
  }
}

function report(error: unknown, io: CliIo, json: boolean): number {
  const { code, message, exitCode } = errorReport(error);
  io.stderr(`error: ${message}\n`);
  if (json) io.stdout(`${JSON.stringify({ error: { code, message, exitCode } })}\n`);
  return exitCode;
}

/**
 * `--help`, `-h`, `help [command]` and `<command> --help` (before any `--`): usage on stdout, exit 0; `--version`:
 * package.json's version. Undefined when argv asks for neither.
 */
async function helpOrVersion(argv: readonly string[], io: CliIo): Promise<number | undefined> {
  const [first, second] = argv;
  if (first === "--version") {
    const pkg = (await Bun.file(new URL("../package.json", import.meta.url)).json()) as { version: string };
    io.stdout(`flightdeck ${pkg.version}\n`);
    return 0;
  }
  if (first === undefined) return undefined;
  if (first === "--help" || first === "-h" || (first === "help" && second === undefined)) {
    io.stdout(usageText());
    return 0;
  }
  if (first === "help") {
    if (!isCommandName(second!)) {
      io.stderr(`error: unknown command "${second}"${didYouMean(second!, Object.keys(COMMANDS))}\n\n${usageText()}`);
      return 2;
    }
    io.stdout(commandUsage(second!));
    return 0;
  }
  if (!isCommandName(first)) return undefined;
  const end = argv.indexOf("--");
  const own = end === -1 ? argv.slice(1) : argv.slice(1, end);
  if (own.includes("--help") || own.includes("-h")) {
    io.stdout(commandUsage(first));
    return 0;
  }
  return undefined;
}

/** image and preview parse their own argv; loaded on demand so other commands do not load them. */
async function delegate(command: "image" | "preview", argv: readonly string[], io: CliIo): Promise<number> {
  const rest = [...argv.slice(1)];
  try {
    if (command === "image") return await (await import("./image/cli.ts")).imageCommand(rest, io);
    return await (await import("./preview/preview.ts")).previewCommand(rest, io);
  } catch (error) {
    return report(error, io, rest.includes("--json"));
  }
}

if (import.meta.main) {
  const controller = new AbortController();
  // First Ctrl-C: stop between API calls, release leases, say how to converge. Second: exit now.
  let interrupted = false;
  process.on("SIGINT", () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    controller.abort(new Error("interrupted (SIGINT)"));
  });
  process.on("SIGTERM", () => controller.abort(new Error("terminated (SIGTERM)")));
  const code = await main(process.argv.slice(2), { ...processIo(), signal: controller.signal });
  process.exit(code);
}

export type { CommandName };
