/**
 * Which errors are a dependency's fault rather than ours: the database unreachable, restarting or failing over
 * (503 `database_unavailable`), or the volume full (507 `insufficient_storage`). Everything else that reaches
 * the error handler unrecognised is our bug (500) and is reported as one.
 *
 * drizzle wraps a driver's error in its own ("Failed query: ...", the driver's error as `cause`), so the chain
 * of causes is walked.
 * @module
 */

export type FaultKind = "database" | "storage";

export interface DependencyFault {
  kind: FaultKind;
  status: 503 | 507;
  code: "database_unavailable" | "insufficient_storage";
  /** The driver's or the kernel's code: ERR_POSTGRES_CONNECTION_REFUSED, 57P01, ENOSPC... */
  cause: string;
  /** The underlying error's message (PostgreSQL's own words), for the log; never sent to the client. */
  detail: string;
}

/**
 * Bun.sql's codes for a connection that could not be made or was lost (bun-types sql.d.ts). Authentication
 * and TLS negotiation failures are left out: they are a configuration mistake, not an outage that passes.
 */
const BUN_CONNECTION_CODES = new Set([
  "ERR_POSTGRES_CONNECTION_CLOSED",
  "ERR_POSTGRES_CONNECTION_FAILED",
  "ERR_POSTGRES_CONNECTION_REFUSED",
  "ERR_POSTGRES_CONNECTION_TIMEOUT",
  "ERR_POSTGRES_IDLE_TIMEOUT",
  "ERR_POSTGRES_LIFETIME_TIMEOUT",
]);

/**
 * SQLSTATEs of a server going away or not yet there (https://www.postgresql.org/docs/current/errcodes-appendix.html):
 * class 08 connection exceptions; 57P01 admin_shutdown (a restart, a failover's old primary); 57P02
 * crash_shutdown; 57P03 cannot_connect_now (starting up, recovering); 53300 too_many_connections; 25006
 * read_only_sql_transaction (a write reached a primary that has just become a standby after a failover).
 */
const SQLSTATES = new Set(["57P01", "57P02", "57P03", "53300", "25006"]);

/** The kernel's, as node:fs reports them: no space left, quota exceeded (errno(3)); SQLite's own for a full disk. */
const STORAGE_CODES = new Set(["ENOSPC", "EDQUOT", "SQLITE_FULL"]);

/** The dependency fault behind `error`, or undefined when it is not one (a bug, a client error). */
export function dependencyFault(error: unknown): DependencyFault | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 6 && current !== null && typeof current === "object"; depth++) {
    const { code, errno } = current as { code?: unknown; errno?: unknown };
    const detail = current instanceof Error ? current.message : String(current);
    if (typeof code === "string" && BUN_CONNECTION_CODES.has(code)) return database(code, detail);
    if (typeof errno === "string" && (SQLSTATES.has(errno) || errno.startsWith("08"))) return database(errno, detail);
    // postgres.js (the test tools) and node-style errors put the SQLSTATE in `code`.
    if (typeof code === "string" && /^[0-9A-Z]{5}$/.test(code) && (SQLSTATES.has(code) || code.startsWith("08")))
      return database(code, detail);
    if (typeof code === "string" && STORAGE_CODES.has(code))
      return { kind: "storage", status: 507, code: "insufficient_storage", cause: code, detail };
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

function database(cause: string, detail: string): DependencyFault {
  return { kind: "database", status: 503, code: "database_unavailable", cause, detail };
}

/** PostgreSQL's own message and code for a log line, from under drizzle's "Failed query: ..." wrapper. */
export function databaseCause(error: unknown): { message: string; code?: string } | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 6 && current !== null && typeof current === "object"; depth++) {
    const { name, errno, code } = current as { name?: unknown; errno?: unknown; code?: unknown };
    if (name === "PostgresError" || name === "SQLiteError") {
      const sqlstate = typeof errno === "string" ? errno : typeof code === "string" ? code : undefined;
      return { message: (current as Error).message, code: sqlstate };
    }
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}
