/**
 * Error reporting to Sentry, spoken directly in Sentry's envelope protocol
 * (https://develop.sentry.dev/sdk/data-model/envelopes/) rather than through @sentry/bun: the SDK instruments
 * the process (global handlers, fetch and http patches, OpenTelemetry) and adds dozens of packages, where this
 * service needs one thing: an event for a 500 or an unhandled error, built here without headers or bodies and
 * scrubbed (scrub.ts) before it leaves. Nothing runs per request: the error handler calls in only for a 500.
 *
 * Repeats are not floods: one event per fingerprint (error type, message, first frame, route) per
 * DEDUPE_WINDOW_MS, and at most MAX_EVENTS_PER_MINUTE in all; a 429 from Sentry pauses sending for its
 * Retry-After. Sending never throws and never holds a request: it is fire-and-forget with a timeout, and
 * flush() waits for what is in flight (shutdown, an uncaught exception).
 * @module
 */
import type { Logger } from "../../lib/log.ts";
import type { Dsn } from "./dsn.ts";
import { createScrubber } from "./scrub.ts";

export const DEDUPE_WINDOW_MS = 60_000;
export const MAX_EVENTS_PER_MINUTE = 30;
const SEND_TIMEOUT_MS = 5000;
const CLIENT = "flightdeck-envelope/1";

export interface ReporterOptions {
  dsn: Dsn;
  environment: string;
  release: string;
  machineId: string;
  region: string;
  appName: string;
  /** Values that must never appear in an event (SECRET_KEY, DATABASE_URL, its password, METRICS_TOKEN). */
  secrets: Array<string | undefined>;
  logger: Logger;
  clock?: () => number;
}

export interface RequestErrorContext {
  requestId: string;
  method: string;
  /** The route template (/v1/projects/:id), never the raw path: ids and tokens can sit in paths. */
  route: string | undefined;
}

export interface Reporter {
  /** A 500 a request answered with (not a dependency fault: the error handler has sorted those out). */
  captureRequestError(error: unknown, context: RequestErrorContext): void;
  /** An error nothing handled (`uncaughtException`, `unhandledRejection`). */
  captureUnhandled(error: unknown, mechanism: "uncaughtException" | "unhandledRejection"): void;
  /** Waits (at most timeoutMs) for events being sent. */
  flush(timeoutMs?: number): Promise<void>;
  /** Events not sent because they repeated or the rate limit was reached. */
  suppressed(): number;
}

export function createReporter(options: ReporterOptions): Reporter {
  const clock = options.clock ?? Date.now;
  const scrub = createScrubber(options.secrets);
  const lastSent = new Map<string, number>();
  const inFlight = new Set<Promise<void>>();
  let windowStart = 0;
  let windowCount = 0;
  let pausedUntil = 0;
  let suppressed = 0;
  const auth = `Sentry sentry_version=7, sentry_client=${CLIENT}, sentry_key=${options.dsn.publicKey}`;

  const admit = (fingerprint: string): boolean => {
    const now = clock();
    if (now < pausedUntil) return false;
    const last = lastSent.get(fingerprint);
    if (last !== undefined && now - last < DEDUPE_WINDOW_MS) return false;
    if (now - windowStart >= 60_000) {
      windowStart = now;
      windowCount = 0;
    }
    if (windowCount >= MAX_EVENTS_PER_MINUTE) return false;
    windowCount += 1;
    if (lastSent.size > 1000) lastSent.clear();
    lastSent.set(fingerprint, now);
    return true;
  };

  const send = (event: Record<string, unknown>) => {
    const body = `${JSON.stringify({ event_id: event.event_id, sent_at: new Date(clock()).toISOString() })}\n${JSON.stringify({ type: "event", content_type: "application/json" })}\n${JSON.stringify(scrub(event))}\n`;
    const sending = fetch(options.dsn.envelopeUrl, {
      method: "POST",
      headers: { "content-type": "application/x-sentry-envelope", "x-sentry-auth": auth },
      body,
      signal: AbortSignal.timeout(SEND_TIMEOUT_MS),
    })
      .then(async (res) => {
        await res.arrayBuffer().catch(() => {});
        if (res.status === 429) {
          // https://develop.sentry.dev/sdk/expected-features/rate-limiting/: seconds to wait (default 60).
          const seconds = Number(res.headers.get("retry-after") ?? "60");
          pausedUntil = clock() + (Number.isFinite(seconds) ? seconds : 60) * 1000;
        } else if (!res.ok) {
          options.logger.warn("error report refused by Sentry", { status: res.status, dsn: options.dsn.shown });
        }
      })
      .catch((error: unknown) => {
        options.logger.warn("error report not delivered", { dsn: options.dsn.shown, cause: (error as Error)?.name });
      })
      .finally(() => inFlight.delete(sending));
    inFlight.add(sending);
  };

  const capture = (
    error: unknown,
    extra: {
      tags: Record<string, string>;
      transaction?: string;
      request?: unknown;
      handled: boolean;
      mechanism: string;
    },
    route?: string,
  ) => {
    const exception = exceptionOf(error, extra.mechanism, extra.handled);
    const fingerprint = `${exception.type}|${exception.value}|${topFrame(exception)}|${route ?? ""}`;
    if (!admit(fingerprint)) {
      suppressed += 1;
      return;
    }
    send({
      event_id: crypto.randomUUID().replaceAll("-", ""),
      timestamp: clock() / 1000,
      platform: "javascript",
      level: extra.handled ? "error" : "fatal",
      logger: "flightdeck",
      environment: options.environment,
      release: options.release,
      server_name: options.machineId,
      transaction: extra.transaction,
      tags: { region: options.region, machine: options.machineId, app: options.appName, ...extra.tags },
      request: extra.request,
      contexts: { runtime: { name: "bun", version: Bun.version } },
      exception: { values: [exception] },
    });
  };

  return {
    captureRequestError(error, context) {
      const route = context.route ?? "unmatched";
      capture(
        error,
        {
          tags: { request_id: context.requestId, route },
          transaction: `${context.method} ${route}`,
          // The method and route template only: no URL (queries carry tokens), no headers, no body.
          request: { method: context.method, url: route },
          handled: true,
          mechanism: "onError",
        },
        route,
      );
    },
    captureUnhandled(error, mechanism) {
      capture(error, { tags: { mechanism }, handled: false, mechanism });
    },
    async flush(timeoutMs = 2000) {
      if (inFlight.size === 0) return;
      await Promise.race([Promise.allSettled([...inFlight]), Bun.sleep(timeoutMs)]);
    },
    suppressed: () => suppressed,
  };
}

interface SentryException {
  type: string;
  value: string;
  mechanism: { type: string; handled: boolean };
  stacktrace?: {
    frames: Array<{ function?: string; filename?: string; lineno?: number; colno?: number; in_app: boolean }>;
  };
}

/**
 * The error as Sentry's exception interface. A database error keeps PostgreSQL's message and SQLSTATE (under
 * drizzle's wrapper, whose own message holds the query's parameters, which scrub.ts removes anyway).
 */
function exceptionOf(error: unknown, mechanism: string, handled: boolean): SentryException {
  const err =
    error instanceof Error ? error : new Error(typeof error === "string" ? error : "a non-Error value was thrown");
  const cause = (err as { cause?: unknown }).cause;
  const code = (cause as { errno?: unknown })?.errno ?? (err as { errno?: unknown }).errno;
  const value =
    cause instanceof Error && err.message.startsWith("Failed query:")
      ? `${cause.message}${typeof code === "string" ? ` (SQLSTATE ${code})` : ""}`
      : err.message;
  return {
    type: err.name || "Error",
    value: value.slice(0, 1000),
    mechanism: { type: mechanism, handled },
    stacktrace: err.stack ? { frames: framesOf(err.stack) } : undefined,
  };
}

/** V8/JavaScriptCore "at fn (file:line:col)" lines, oldest first as Sentry expects. */
function framesOf(stack: string) {
  const frames = [];
  for (const line of stack.split("\n").slice(1, 40)) {
    const match = /^\s*at (?:(.+?) \()?(.+?):(\d+):(\d+)\)?$/.exec(line);
    if (!match) continue;
    const filename = match[2]!;
    frames.push({
      function: match[1],
      filename,
      lineno: Number(match[3]),
      colno: Number(match[4]),
      in_app: !filename.includes("node_modules") && !filename.startsWith("native"),
    });
  }
  return frames.reverse();
}

function topFrame(exception: SentryException): string {
  const frames = exception.stacktrace?.frames;
  const top = frames?.[frames.length - 1];
  return top ? `${top.filename}:${top.lineno}` : "";
}
