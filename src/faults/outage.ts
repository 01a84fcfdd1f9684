/**
 * One log line per outage, not one per request: the first database fault of an outage is logged with its cause
 * and the server it concerns (host and port, never the URL's password); then the database is pinged every
 * `probeMs` until it answers, and the recovery is logged with the outage's length and how many requests were
 * refused meanwhile. A full volume is logged at most once per `storageQuietMs`.
 * @module
 */
import type { Logger } from "../../lib/log.ts";
import type { DependencyFault } from "./classify.ts";

export interface OutageWatchOptions {
  logger: Logger;
  /** Where the database is, as host:port/database (see databaseTarget). */
  target: string;
  ping: () => Promise<{ ok: boolean }>;
  probeMs?: number;
  storageQuietMs?: number;
  clock?: () => number;
}

export interface OutageWatch {
  /** Records one request answered with `fault`; logs only the first of an outage. */
  record(fault: DependencyFault): void;
  /** Whether the database is currently believed down (an outage was seen and has not ended). */
  databaseDown(): boolean;
  stop(): void;
}

export function createOutageWatch(options: OutageWatchOptions): OutageWatch {
  const { logger, target } = options;
  const probeMs = options.probeMs ?? 1000;
  const storageQuietMs = options.storageQuietMs ?? 60_000;
  const clock = options.clock ?? Date.now;
  let outage: { since: number; refused: number; timer: Timer } | undefined;
  let storageLoggedAt = Number.NEGATIVE_INFINITY;
  let probing = false;

  const probe = () => {
    if (probing || outage === undefined) return;
    probing = true;
    options
      .ping()
      .then(
        (result) => {
          if (!result.ok || outage === undefined) return;
          clearInterval(outage.timer);
          logger.info("database available again", {
            database: target,
            outage_ms: clock() - outage.since,
            refused_requests: outage.refused,
          });
          outage = undefined;
        },
        () => {},
      )
      .finally(() => {
        probing = false;
      });
  };

  return {
    record(fault) {
      if (fault.kind === "storage") {
        if (clock() - storageLoggedAt < storageQuietMs) return;
        storageLoggedAt = clock();
        logger.error("volume full; uploads answer 507 insufficient_storage", { cause: fault.cause });
        return;
      }
      if (outage !== undefined) {
        outage.refused += 1;
        return;
      }
      const timer = setInterval(probe, probeMs);
      // The probe must not keep a finished process (a test, a shutdown) alive.
      timer.unref();
      outage = { since: clock(), refused: 1, timer };
      logger.error("database unavailable; answering 503 database_unavailable until it answers again", {
        database: target,
        cause: fault.cause,
        detail: fault.detail,
      });
    },
    databaseDown: () => outage !== undefined,
    stop() {
      if (outage) clearInterval(outage.timer);
      outage = undefined;
    },
  };
}

/** host:port/database of a database URL, without user or password; the path of a SQLite one. */
export function databaseTarget(url: string): string {
  if (url.startsWith("sqlite:")) return url;
  try {
    const parsed = new URL(url);
    return `${parsed.hostname}:${parsed.port || "5432"}${parsed.pathname}`;
  } catch {
    return "an unparseable DATABASE_URL";
  }
}
