// `logs [--app NAME] [--machine ID] [--region R] [--follow] [--json]`: the app's logs from Fly's logs
// endpoint (lib/fly/logs.ts), one line per entry: time, region, machine, level, message.
//
// Without --follow it prints what Fly has buffered and stops at the first empty page. With --follow it polls
// like flyctl's logs/polling.go: straight on while pages come back full, and after an empty page waits with
// doubling backoff (capped), until Ctrl-C, which ends it with exit 0. With --json every entry is one JSON
// object on its own line (NDJSON) as it arrives, instead of DESIGN.md's single object at the end: a stream
// that only ends on Ctrl-C has no "end" to print at, and `| jq` reads NDJSON line by line.

import { APP_NAME } from "../config/app-name.ts";
import { systemClock } from "../../lib/http/clock.ts";
import { FlyClientConfigError } from "../../lib/fly/client.ts";
import { isFlyApiError } from "../../lib/fly/errors.ts";
import { createLogsClient, type LogEntry, type LogsClient } from "../../lib/fly/logs.ts";
import { DASHBOARD_TOKENS } from "../../lib/fly/token-help.ts";
import type { CommandContext } from "./context.ts";
import { loadConfig } from "./context.ts";
import { CommandOutcome } from "./outcome.ts";
import { DeployError, usageError } from "../deploy-error.ts";
import type { CliIo, Output } from "../output.ts";

/** flyctl polls between 64 ms and 4 s; we start a little slower and cap lower, so a follow stays responsive. */
export const POLL_MIN_MS = 200;
export const POLL_MAX_MS = 2_000;
/** Without --follow: stop after this many pages even if Fly keeps sending (a busy app never runs dry). */
const MAX_PAGES = 20;
/** Consecutive failed polls (each already retried by the transport) before --follow gives up. */
const MAX_FAILED_POLLS = 5;

const MACHINE_ID = /^[A-Za-z0-9]{1,64}$/;
const REGION = /^[a-z]{3}$/;

export interface LogsRequest {
  app: string;
  machine?: string;
  region?: string;
  follow: boolean;
  json: boolean;
}

export async function logsCommand(ctx: CommandContext): Promise<CommandOutcome> {
  const { flags } = ctx.args;
  const request: LogsRequest = { app: "", follow: flags.follow === true, json: flags.json === true };
  if (typeof flags.machine === "string") {
    if (!MACHINE_ID.test(flags.machine))
      throw usageError(
        `--machine must be a machine id such as 148ed193b95d89 (got ${JSON.stringify(flags.machine.slice(0, 80))})`,
      );
    request.machine = flags.machine;
  }
  if (typeof flags.region === "string") {
    if (!REGION.test(flags.region))
      throw usageError(
        `--region must be a three-letter Fly region code such as ewr (got ${JSON.stringify(flags.region.slice(0, 80))})`,
      );
    request.region = flags.region;
  }
  if (typeof flags.app === "string") {
    if (!APP_NAME.test(flags.app))
      throw usageError(
        `--app must be a Fly app name: lowercase letters, digits and dashes (got ${JSON.stringify(flags.app.slice(0, 80))})`,
      );
    request.app = flags.app;
  } else request.app = (await loadConfig(ctx.args)).app;

  let logs: LogsClient;
  try {
    logs = createLogsClient({ env: ctx.io.env });
  } catch (error) {
    if (error instanceof FlyClientConfigError) throw new DeployError("preflight_failed", error.message, 2);
    throw error;
  }
  await printLogs(logs, request, ctx.io, ctx.output);
  return new CommandOutcome(0);
}

/** Reads and prints the logs; returns how many entries were printed. Ctrl-C (the io signal) ends it cleanly. */
export async function printLogs(
  logs: LogsClient,
  request: LogsRequest,
  io: CliIo,
  output: Output,
  timing: { minMs: number; maxMs: number } = { minMs: POLL_MIN_MS, maxMs: POLL_MAX_MS },
): Promise<number> {
  const filter = [request.machine ? `machine ${request.machine}` : "", request.region ? `region ${request.region}` : ""]
    .filter(Boolean)
    .join(", ");
  output.step(
    `${request.follow ? "following" : "reading"} logs of ${request.app}${filter ? ` (${filter})` : ""}${request.follow ? "; Ctrl-C to stop" : ""}`,
  );
  let token = "";
  let printed = 0;
  let wait = timing.minMs;
  let failures = 0;
  for (let page = 0; ; page++) {
    if (io.signal?.aborted) return printed;
    let entries: LogEntry[];
    try {
      const result = await logs.getAppLogs(request.app, {
        nextToken: token,
        instance: request.machine,
        region: request.region,
        signal: io.signal,
      });
      entries = result.entries;
      token = result.nextToken;
      failures = 0;
    } catch (error) {
      if (io.signal?.aborted) return printed;
      const fatal = explainFatal(error, request.app);
      if (fatal) throw fatal;
      if (!request.follow || ++failures >= MAX_FAILED_POLLS) throw error;
      output.warn(
        `reading logs failed (${failures}/${MAX_FAILED_POLLS}), trying again: ${error instanceof Error ? error.message : String(error)}`,
      );
      wait = Math.min(wait * 2, timing.maxMs);
      await systemClock.sleep(wait, io.signal);
      continue;
    }
    for (const entry of entries)
      io.stdout(`${request.json ? JSON.stringify(entryJson(entry)) : formatLogLine(entry)}\n`);
    printed += entries.length;
    if (!request.follow) {
      if (entries.length === 0 || page + 1 >= MAX_PAGES) {
        if (entries.length > 0) output.step(`stopped after ${MAX_PAGES} pages; use --follow to keep reading`);
        if (printed === 0) output.step(`no log lines${filter ? ` for ${filter}` : ""}`);
        return printed;
      }
      continue;
    }
    if (entries.length > 0) {
      wait = timing.minMs;
      continue;
    }
    await systemClock.sleep(wait, io.signal);
    wait = Math.min(wait * 2, timing.maxMs);
  }
}

/** Failures that polling again cannot fix, with what to do about them. */
function explainFatal(error: unknown, app: string): DeployError | undefined {
  if (!isFlyApiError(error)) return undefined;
  if (error.status === 404) {
    return new DeployError(
      "app_not_found",
      `app ${app} does not exist (or this token cannot see it): check the app in fly.toml or --app`,
      2,
      { app },
    );
  }
  if (error.status === 401 || error.status === 403) {
    // flyctl-behaviours.md §2: app deploy tokens may be refused log access ("not authorized to retrieve app logs").
    return new DeployError(
      "api_error",
      `${error.message}\nthis FLY_API_TOKEN may not read ${app}'s logs: app deploy tokens can be refused log access; use an organization token from ${DASHBOARD_TOKENS}`,
      1,
      { app },
    );
  }
  return undefined;
}

/** `2026-05-07T10:00:00.123Z ewr 148ed193b95d89 info  message`: one line per entry, blanks shown as "-". */
export function formatLogLine(entry: LogEntry): string {
  const or = (value: string) => (value === "" ? "-" : value);
  return [
    or(entry.timestamp),
    or(entry.region),
    or(entry.instance),
    or(entry.level).padEnd(5),
    oneLine(entry.message),
  ].join(" ");
}

/** The --json object of one entry (`machine` is Fly's `instance`, named as the --machine flag names it). */
export function entryJson(entry: LogEntry) {
  return {
    id: entry.id,
    timestamp: entry.timestamp,
    region: entry.region,
    machine: entry.instance,
    level: entry.level,
    message: entry.message,
    meta: entry.meta,
  };
}

/**
 * Keeps one entry on one line and the terminal safe: the trailing newline goes, inner line breaks and other
 * control characters (an app could log ANSI escapes or a forged "next line") are shown escaped.
 */
export function oneLine(message: string): string {
  return message.replace(/\r?\n$/, "").replace(/[\u0000-\u0008\u000a-\u001f\u007f]/g, (c) => {
    if (c === "\n") return "\\n";
    if (c === "\r") return "\\r";
    return `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`;
  });
}
