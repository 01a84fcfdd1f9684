/**
 * Every error becomes JSON: `{"error": {"code", "message", "request_id"}}`. Validation failures carry field
 * details; stack traces are shown only in development.
 * @module
 */
import { Elysia } from "elysia";
import type { AppEnv } from "../../lib/config.ts";
import type { Logger } from "../../lib/log.ts";
import { HttpError } from "../errors.ts";
import { dependencyFault } from "../faults/classify.ts";
import type { OutageWatch } from "../faults/outage.ts";
import { requestStateOf } from "./request-context.ts";

/**
 * Seconds a client should wait after a dependency fault (RFC 9110 section 10.2.3): a PostgreSQL restart or a
 * failover is over in seconds; a full volume needs someone to act, so clients are asked to wait longer.
 */
export const DATABASE_RETRY_AFTER_S = 2;
export const STORAGE_RETRY_AFTER_S = 60;

export interface ErrorHandlerOptions {
  /** Logs a dependency fault once per outage instead of once per request. */
  outages?: OutageWatch;
  /** Called for every 500 (our bug) with the error and the request, for error reporting (src/reporting/). */
  onBug?: (error: unknown, request: Request, route: string | undefined) => void;
  /** The methods a path answers (./allowed-methods.ts): an unmatched method on a known path is 405, not 404. */
  allowedMethods?: (path: string) => string[];
}

interface ValidationIssue {
  path?: string;
  message?: string;
  summary?: string;
}

export function errorHandler(appEnv: AppEnv, logger: Logger, options: ErrorHandlerOptions = {}) {
  return new Elysia({ name: "errors" }).onError(
    { as: "global" },
    function errorHandler({ code, error, set, request, route }) {
      const state = requestStateOf(request);
      const requestId = state.id;
      const body = (status: number, errorCode: string, message: string, details?: unknown) => {
        set.status = status;
        set.headers["content-type"] = "application/json; charset=utf-8";
        return {
          error: { code: errorCode, message, request_id: requestId, ...(details === undefined ? {} : { details }) },
        };
      };

      // Elysia wraps anything a body parser throws in a ParseError; a parser's own HttpError (415, 413, invalid
      // UTF-8) keeps its status and code.
      const cause = code === "PARSE" ? (error as { cause?: unknown }).cause : undefined;
      const httpError = error instanceof HttpError ? error : cause instanceof HttpError ? cause : undefined;
      if (httpError) {
        Object.assign(set.headers, httpError.headers ?? {});
        return body(httpError.status, httpError.code, httpError.message, httpError.details);
      }
      switch (code) {
        case "NOT_FOUND": {
          const path = new URL(request.url).pathname;
          const allow = options.allowedMethods?.(path) ?? [];
          if (allow.length > 0) {
            set.headers.allow = allow.join(", ");
            return body(405, "method_not_allowed", `${request.method} is not allowed on ${path}`, { allow });
          }
          return body(404, "not_found", `no route for ${request.method} ${path}`);
        }
        case "PARSE":
          return body(
            400,
            "malformed_body",
            "the request body could not be parsed; send valid JSON with content-type application/json",
          );
        case "VALIDATION": {
          const issues = ((error as { all?: ValidationIssue[] }).all ?? []).map((issue) => ({
            field: issue.path || propertyField(error, request) || "/",
            message: issue.summary ?? issue.message ?? "invalid",
          }));
          return body(422, "validation_failed", "the request did not match the expected schema", issues);
        }
        case "INVALID_COOKIE_SIGNATURE":
          return body(400, "invalid_cookie", "invalid cookie signature");
      }
      const status = (error as { status?: unknown }).status;
      if (typeof status === "number" && status >= 400 && status < 500) {
        // Elysia's own 4xx errors (e.g. an unsupported content type) keep their status.
        return body(status, "bad_request", (error as Error).message || "bad request");
      }
      const fault = dependencyFault(error);
      if (fault) {
        state.fault = fault.code;
        options.outages?.record(fault);
        set.headers["retry-after"] = String(fault.kind === "database" ? DATABASE_RETRY_AFTER_S : STORAGE_RETRY_AFTER_S);
        return fault.kind === "database"
          ? body(503, fault.code, "the database is unavailable for a moment; retry shortly", {
              retry_after_s: DATABASE_RETRY_AFTER_S,
            })
          : body(507, fault.code, "the storage volume is full; nothing was stored", undefined);
      }
      state.fault = "bug";
      options.onBug?.(error, request, route);
      logger.error("unhandled error", {
        request_id: requestId,
        error,
        stack: appEnv === "development" ? (error as Error)?.stack : undefined,
      });
      return body(
        500,
        "internal_error",
        appEnv === "development" && error instanceof Error ? error.message : "internal server error",
        appEnv === "development" && error instanceof Error
          ? { stack: error.stack?.split("\n").slice(0, 8) }
          : undefined,
      );
    },
  );
}

/**
 * Elysia checks a coerced query or path value (an integer's bounds) on its own, so the issue has no path
 * (ValidationError type "property", value the decoded number). The field is the one query parameter holding
 * that value; when none or several do, it stays unnamed rather than guessed.
 */
function propertyField(error: unknown, request: Request): string | undefined {
  const { type, value } = error as { type?: unknown; value?: unknown };
  if (type !== "property" || value === undefined || value === null || typeof value === "object") return undefined;
  const holders = new Set(
    [...new URL(request.url).searchParams]
      .filter(([, raw]) => raw === String(value) || (typeof value === "number" && Number(raw) === value))
      .map(([key]) => key),
  );
  return holders.size === 1 ? `/${[...holders][0]}` : undefined;
}
