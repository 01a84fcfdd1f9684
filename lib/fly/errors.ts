/**
 * The one error type of the Fly API boundary. Like octokit's RequestError it carries what a caller needs to
 * act (code, status, the API's own message, the request id Fly support asks for) and never the request's
 * credentials: it is built from the method, path and response only, so a token cannot leak through it.
 * @module
 */

export type FlyApiErrorCode =
  | "bad_request" // 400
  | "unauthorized" // 401
  | "forbidden" // 403 (fly-go: app exists but belongs to someone else)
  | "not_found" // 404
  | "request_timeout" // 408
  | "conflict" // 409 (lease held by someone else, current_version mismatch)
  | "precondition_failed" // 412 (machine not in a state that allows the action, stale machine_version)
  | "unprocessable" // 422 (e.g. app name taken)
  | "rate_limited" // 429
  | "server_error" // 5xx
  | "http_error" // any other non-success status
  | "network_error" // connection refused/reset/dropped, no usable response
  | "timeout" // the per-request timeout fired
  | "deadline_exceeded" // retries ran out of the overall deadline
  | "aborted" // the caller's AbortSignal fired
  | "invalid_response"; // a success status with a body that is not the JSON we expected

export interface FlyApiErrorInit {
  code: FlyApiErrorCode;
  method: string;
  path: string;
  status: number;
  apiMessage?: string;
  apiStatus?: string;
  requestId?: string;
  attempts?: number;
  retryAfterMs?: number;
  cause?: unknown;
}

export class FlyApiError extends Error {
  override name = "FlyApiError" as const;
  readonly code: FlyApiErrorCode;
  readonly method: string;
  /** Path (with query) of the call, e.g. `/v1/apps/web/machines/123/wait?state=started`. No host, no token. */
  readonly path: string;
  /** HTTP status; 0 when no response was received (network error, timeout, abort). */
  readonly status: number;
  /** The API's `error` field (or `message`, or the raw body when not JSON). */
  readonly apiMessage: string | undefined;
  /** The API's machine-readable `status` field, e.g. `name_taken`, `insufficient_capacity`. */
  readonly apiStatus: string | undefined;
  /** `fly-request-id` response header: quote it to Fly support. */
  readonly requestId: string | undefined;
  /** How many HTTP attempts were made before giving up. */
  readonly attempts: number;
  /** Delay the server asked for (Retry-After), when it did. */
  readonly retryAfterMs: number | undefined;

  constructor(init: FlyApiErrorInit) {
    super(describe(init), init.cause === undefined ? undefined : { cause: init.cause });
    this.code = init.code;
    this.method = init.method;
    this.path = init.path;
    this.status = init.status;
    this.apiMessage = init.apiMessage;
    this.apiStatus = init.apiStatus;
    this.requestId = init.requestId;
    this.attempts = init.attempts ?? 1;
    this.retryAfterMs = init.retryAfterMs;
  }

  /** JSON form for `--json` output and structured logs (the cause is reduced to its message). */
  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      code: this.code,
      message: this.message,
      method: this.method,
      path: this.path,
      status: this.status,
      apiMessage: this.apiMessage,
      apiStatus: this.apiStatus,
      requestId: this.requestId,
      attempts: this.attempts,
    };
  }
}

export function isFlyApiError(value: unknown): value is FlyApiError {
  // Matching on name as well keeps the guard working across module copies (ky does the same).
  return value instanceof FlyApiError || (value instanceof Error && value.name === "FlyApiError");
}

export function codeForStatus(status: number): FlyApiErrorCode {
  switch (status) {
    case 400:
      return "bad_request";
    case 401:
      return "unauthorized";
    case 403:
      return "forbidden";
    case 404:
      return "not_found";
    case 408:
      return "request_timeout";
    case 409:
      return "conflict";
    case 412:
      return "precondition_failed";
    case 422:
      return "unprocessable";
    case 429:
      return "rate_limited";
    default:
      return status >= 500 ? "server_error" : "http_error";
  }
}

/**
 * Reads the API's message out of an error body. The spec's ErrorResponse has `error`; fly-go also reads
 * `message` and falls back to the raw body when it is not JSON, so we do the same.
 */
export function parseErrorBody(text: string): { apiMessage?: string; apiStatus?: string } {
  const trimmed = text.trim();
  if (trimmed === "") return {};
  try {
    const body: unknown = JSON.parse(trimmed);
    if (body && typeof body === "object") {
      const record = body as Record<string, unknown>;
      const message =
        typeof record.error === "string"
          ? record.error
          : typeof record.message === "string"
            ? record.message
            : undefined;
      const apiStatus = typeof record.status === "string" ? record.status : undefined;
      return { apiMessage: message ?? trimmed.slice(0, 500), apiStatus };
    }
  } catch {
    // not JSON: keep the raw text below
  }
  return { apiMessage: trimmed.slice(0, 500) };
}

function describe(init: FlyApiErrorInit): string {
  const call = `${init.method} ${init.path}`;
  const tail = [init.apiMessage, init.requestId ? `request id ${init.requestId}` : undefined]
    .filter(Boolean)
    .join("; ");
  const suffix = tail ? `: ${tail}` : "";
  const tries = (init.attempts ?? 1) > 1 ? ` after ${init.attempts} attempts` : "";
  switch (init.code) {
    case "network_error":
      return `Fly API ${call} failed: connection error${tries}${suffix || `: ${causeMessage(init.cause)}`}`;
    case "timeout":
      return `Fly API ${call} timed out${tries}`;
    case "deadline_exceeded":
      return `Fly API ${call} gave up: retry deadline exceeded${tries}${init.status ? ` (last status ${init.status})` : ""}${suffix}`;
    case "aborted":
      return `Fly API ${call} was aborted`;
    case "invalid_response":
      return `Fly API ${call} returned an unexpected body (status ${init.status})${suffix}`;
    default:
      return `Fly API ${call} failed with status ${init.status}${tries}${suffix}`;
  }
}

function causeMessage(cause: unknown): string {
  return cause instanceof Error ? cause.message : String(cause);
}
