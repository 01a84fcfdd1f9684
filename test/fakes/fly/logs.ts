// Fly's logs endpoint, `GET /api/v1/apps/{app}/logs?next_token=&instance=&region=` (fly-go resource_logs.go;
// on api.fly.io, not the Machines API, so it is not in the spec: the shape is fly-go's getLogsResponse).
// Lines accumulate per app: machine lifecycle lines from lifecycle.ts (runner and app lines, as Fly's log
// shipper tags them) and whatever a test appends. Pages hold `pageSize` entries; `next_token` is opaque to
// clients and encodes the last entry a page returned. An empty page hands the same token back.

import { HttpError, json, type FakeContext } from "./context.ts";
import type { Route } from "./router.ts";
import type { FakeApp, FakeLogEntry, FakeMachine } from "./state.ts";
import { randomHex } from "./state.ts";

export interface LogLine {
  message: string;
  /** Machine id (Fly's `instance`); the line's region is the machine's unless given. */
  machine?: string;
  region?: string;
  level?: string;
  /** `meta.event.provider`: "app" for the app's own output, "runner" for flyd, "proxy" for the Fly proxy. */
  provider?: string;
}

export interface FakeLogs {
  /** Entries per page (default 50). */
  pageSize: number;
  /** Appends a line to an app's logs, as if its machine had printed it. */
  append(appName: string, line: LogLine): FakeLogEntry;
  /** The app's lines, oldest first. */
  of(appName: string): FakeLogEntry[];
}

let sequence = 0;

function addEntry(app: FakeApp, line: LogLine): FakeLogEntry {
  const machine = line.machine ? app.machines.get(line.machine) : undefined;
  const region = line.region ?? machine?.region ?? "";
  const entry: FakeLogEntry = {
    seq: ++sequence,
    id: randomHex(26).toUpperCase(),
    // Fly's timestamps carry nanoseconds (flyctl parses them with RFC3339Nano).
    timestamp: new Date().toISOString().replace("Z", `${String(sequence % 1_000_000).padStart(6, "0")}Z`),
    message: line.message,
    level: line.level ?? "info",
    instance: line.machine ?? "",
    region,
    meta: { instance: line.machine ?? "", region, event: { provider: line.provider ?? "app" } },
  };
  app.logs.push(entry);
  return entry;
}

/** A line from a machine of the fake (lifecycle.ts calls it as machines boot, stop and exit). */
export function machineLog(
  ctx: FakeContext,
  machine: FakeMachine,
  message: string,
  provider = "runner",
  level = "info",
): void {
  const app = ctx.state.apps.get(machine.appName);
  if (app) addEntry(app, { message, machine: machine.id, provider, level });
}

export function createFakeLogs(ctx: FakeContext): FakeLogs {
  return {
    pageSize: 50,
    append(appName, line) {
      const app = ctx.state.apps.get(appName);
      if (!app) throw new Error(`fake Fly: logs.append: no app ${appName}`);
      return addEntry(app, line);
    },
    of: (appName) => [...(ctx.state.apps.get(appName)?.logs ?? [])],
  };
}

const TOKEN_PREFIX = "fake-logs:";

function encodeToken(seq: number): string {
  return Buffer.from(`${TOKEN_PREFIX}${seq}`).toString("base64url");
}

function decodeToken(token: string): number {
  if (token === "") return 0;
  const text = Buffer.from(token, "base64url").toString("utf8");
  const seq = text.startsWith(TOKEN_PREFIX) ? Number(text.slice(TOKEN_PREFIX.length)) : NaN;
  if (!Number.isSafeInteger(seq) || seq < 0) throw new HttpError(400, "invalid next_token");
  return seq;
}

export function logRoutes(logs: FakeLogs): Route[] {
  return [
    {
      method: "GET",
      path: "/api/v1/apps/:app/logs",
      handle: ({ app, query }) => {
        const token = query.get("next_token") ?? "";
        const after = decodeToken(token);
        const instance = query.get("instance");
        const region = query.get("region");
        const page = app!.logs
          .filter((e) => e.seq > after && (!instance || e.instance === instance) && (!region || e.region === region))
          .slice(0, logs.pageSize);
        const last = page.at(-1);
        return json({
          data: page.map((e) => ({
            id: e.id,
            type: "logs",
            attributes: {
              timestamp: e.timestamp,
              message: e.message,
              level: e.level,
              instance: e.instance,
              region: e.region,
              meta: e.meta,
            },
          })),
          meta: { next_token: last ? encodeToken(last.seq) : token },
        });
      },
    },
  ];
}
