/**
 * Structured JSON logging, one line per event, with secret redaction. Shared by the service and the
 * deploy library so neither can print a token, password or connection string by accident.
 * @module
 */
import type { LogLevel } from "./config.ts";

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
  /**
   * For a line written on every request (the access log), where building a record and walking it costs more
   * than the request itself: time, level, msg and the logger's fields are prepared once, and each call passes
   * the rest as ready JSON members (`,"key":value,...`). The caller vouches that they are valid JSON, hold no
   * secret and do not repeat a prepared key. Undefined when `level` is filtered out.
   */
  lineWriter(level: LogLevel, msg: string): ((members: string) => void) | undefined;
}

export interface LoggerOptions {
  level?: LogLevel;
  fields?: Record<string, unknown>;
  /** Where lines go; stdout (batched, see stdoutLines) by default. Tests pass a collector. */
  write?: (line: string) => void;
}

const LEVEL_ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };
const SECRET_KEY_PATTERN = /token|secret|password|passwd|authorization|cookie|api[-_]?key|database_url|^key$/i;
const URL_CREDENTIALS = /([a-z][a-z0-9+.-]*:\/\/[^:/@\s]+:)[^@\s]+@/gi;
export const REDACTED = "[redacted]";

/** `ordered` is false for integer-like keys, which objects enumerate first, before time, level and msg. */
interface KeyInfo {
  secret: boolean;
  json: string;
  ordered: boolean;
}
const keyCache = new Map<string, KeyInfo>();

/** Field names repeat on every line, so each is matched and quoted once (bounded in case keys are dynamic). */
function keyInfo(key: string): KeyInfo {
  let info = keyCache.get(key);
  if (info === undefined) {
    info = {
      secret: SECRET_KEY_PATTERN.test(key),
      json: JSON.stringify(key),
      ordered: !/^(0|[1-9][0-9]*)$/.test(key) || Number(key) >= 2 ** 32 - 1,
    };
    if (keyCache.size < 1024) keyCache.set(key, info);
  }
  return info;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const threshold = LEVEL_ORDER[options.level ?? "info"];
  const write = options.write ?? stdoutLines;
  const base = options.fields ?? {};
  // A line is `{time, level, msg, ...base, ...fields}`. The base fields are the same on every line, so they
  // are redacted and serialised once; a line whose fields are all flat (the access log's are) is then
  // assembled as text, exactly what JSON.stringify(redact(record)) gives, at a fraction of the cost.
  // __proto__ too: an own "__proto__" field is dropped by the general path (assigning it sets a prototype).
  const reserved = new Set(["time", "level", "msg", "__proto__", ...Object.keys(base)]);
  const baseKeys = Object.keys(base);
  const baseJson =
    reserved.size === baseKeys.length + 4 && baseKeys.every((key) => keyInfo(key).ordered)
      ? JSON.stringify(redact(base)).slice(1, -1)
      : undefined;
  const head = baseJson ? `,${baseJson}` : "";

  const emit = (level: LogLevel, msg: string, fields?: Record<string, unknown>) => {
    if (LEVEL_ORDER[level] < threshold) return;
    const flat = baseJson === undefined ? undefined : fields === undefined ? "" : flatFieldsJson(fields, reserved);
    if (flat !== undefined) {
      write(`{"time":"${isoNow()}","level":"${level}","msg":${JSON.stringify(redact(msg))}${head}${flat}}`);
      return;
    }
    const record = { time: isoNow(), level, msg, ...base, ...fields };
    write(JSON.stringify(redact(record)));
  };

  return {
    debug: (msg, fields) => emit("debug", msg, fields),
    info: (msg, fields) => emit("info", msg, fields),
    warn: (msg, fields) => emit("warn", msg, fields),
    error: (msg, fields) => emit("error", msg, fields),
    child: (fields) => createLogger({ ...options, fields: { ...base, ...fields } }),
    lineWriter(level, msg) {
      if (LEVEL_ORDER[level] < threshold) return undefined;
      // Base fields the text path cannot place (see baseJson) go through emit, which orders them as usual.
      if (baseJson === undefined) return (members) => emit(level, msg, JSON.parse(`{${members.slice(1)}}`));
      const rest = `","level":"${level}","msg":${JSON.stringify(redact(msg))}${head}`;
      return (members) => write(`{"time":"${isoNow()}${rest}${members}}`);
    },
  };
}

/**
 * `,"key":value` for each field, as JSON.stringify(redact(...)) would write them, or undefined when a field
 * needs the general path: a nested value, a string that may hold URL credentials, a key that would
 * override time, level, msg or a base field, or an integer-like key (enumerated out of order).
 */
function flatFieldsJson(fields: Record<string, unknown>, reserved: Set<string>): string | undefined {
  let out = "";
  for (const key in fields) {
    if (!Object.hasOwn(fields, key)) continue;
    if (reserved.has(key)) return undefined;
    const value = fields[key];
    let json: string;
    if (value === undefined) continue;
    if (value === null) json = "null";
    else if (typeof value === "string") {
      if (value.includes("@")) return undefined;
      json = JSON.stringify(value);
    } else if (typeof value === "number") json = Number.isFinite(value) ? String(value) : "null";
    else if (typeof value === "boolean") json = value ? "true" : "false";
    else return undefined;
    const info = keyInfo(key);
    if (!info.ordered) return undefined;
    out += `,${info.json}:${info.secret && value !== null ? `"${REDACTED}"` : json}`;
  }
  return out;
}

let lastMs = 0;
let lastIso = "";
/** The access log writes a line per request; formatting the timestamp once per millisecond is enough. */
function isoNow(): string {
  const ms = Date.now();
  if (ms !== lastMs) {
    lastMs = ms;
    lastIso = new Date(ms).toISOString();
  }
  return lastIso;
}

let pendingLines = "";
let flushTimer: Timer | undefined;
/** How long a line may wait for company; logs are shipped asynchronously anyway. */
const FLUSH_EVERY_MS = 10;
/** Above this many buffered characters a batch is written at once. */
const MAX_PENDING_CHARS = 64 * 1024;

function flushLines() {
  flushTimer = undefined;
  if (pendingLines === "") return;
  const out = pendingLines;
  pendingLines = "";
  process.stdout.write(out);
}

/**
 * The default sink: lines are batched and written every few milliseconds. A write per access-log line cost
 * about 0.7 us of a /health/live request that bare Elysia answers in 10 (`bun --cpu-prof`, issue 13); a batch
 * of 20 costs 0.03 us a line. Every line is kept, in order, at most FLUSH_EVERY_MS late; what is pending when
 * the process exits is handed to stdout first, as a direct write would have been.
 */
function stdoutLines(line: string) {
  pendingLines += `${line}\n`;
  if (pendingLines.length > MAX_PENDING_CHARS) {
    clearTimeout(flushTimer);
    flushLines();
  } else if (flushTimer === undefined) {
    flushTimer = setTimeout(flushLines, FLUSH_EVERY_MS);
    flushTimer.unref();
  }
  if (!exitFlushRegistered) {
    exitFlushRegistered = true;
    process.on("exit", flushLines);
  }
}
let exitFlushRegistered = false;

/** A logger that drops everything; for tests and library callers that do not log. */
export const silentLogger: Logger = createLogger({ write: () => {} });

/**
 * Replaces values under secret-looking keys, and passwords inside URLs anywhere, with a marker.
 * Errors are flattened to name/message/code so their stacks do not leak into structured logs by default.
 */
export function redact(value: unknown, depth = 0): unknown {
  if (depth > 8) return "[depth]";
  // Credentials in a URL need an "@"; most strings (every access-log field) have none and skip the regex.
  if (typeof value === "string") return value.includes("@") ? value.replace(URL_CREDENTIALS, `$1${REDACTED}@`) : value;
  if (value === null || typeof value !== "object") return value;
  if (value instanceof Error) {
    const code = (value as { code?: unknown }).code;
    return { name: value.name, message: redact(value.message, depth + 1), ...(code === undefined ? {} : { code }) };
  }
  if (Array.isArray(value)) return value.map((item) => redact(item, depth + 1));
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const key in value) {
      if (!Object.hasOwn(value, key)) continue;
      const item = (value as Record<string, unknown>)[key];
      out[key] = keyInfo(key).secret && item !== undefined && item !== null ? REDACTED : redact(item, depth + 1);
    }
    return out;
  }
  return value;
}
