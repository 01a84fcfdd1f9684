/**
 * Every error becomes JSON: `{"error": {"code", "message", "request_id"}}`. Validation failures carry field
 * details; stack traces are shown only in development.
 * @module
 */
import { Elysia } from "elysia";
import type { AppEnv } from "../../lib/config.ts";
import type { Logger } from "../../lib/log.ts";
import { HttpError } from "../errors.ts";
import { requestIdOf } from "./request-context.ts";

interface ValidationIssue {
  path?: string;
  message?: string;
  summary?: string;
}

export function errorHandler(appEnv: AppEnv, logger: Logger) {
  return new Elysia({ name: "errors" }).onError({ as: "global" }, function errorHandler({ code, error, set, request }) {
    const requestId = requestIdOf(request);
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
      case "NOT_FOUND":
        return body(404, "not_found", `no route for ${request.method} ${new URL(request.url).pathname}`);
      case "PARSE":
        return body(
          400,
          "malformed_body",
          "the request body could not be parsed; send valid JSON with content-type application/json",
        );
      case "VALIDATION": {
        const issues = ((error as { all?: ValidationIssue[] }).all ?? []).map((issue) => ({
          field: issue.path || "/",
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
    logger.error("unhandled error", {
      request_id: requestId,
      error,
      stack: appEnv === "development" ? (error as Error)?.stack : undefined,
    });
    return body(
      500,
      "internal_error",
      appEnv === "development" && error instanceof Error ? error.message : "internal server error",
      appEnv === "development" && error instanceof Error ? { stack: error.stack?.split("\n").slice(0, 8) } : undefined,
    );
  });
}
