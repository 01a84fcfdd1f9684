// The only I/O of the client (octokit's fetch-wrapper split): one call = build the URL, send with a per-request
// timeout, read the body, turn failures into FlyApiError, retry what is safe to retry inside an overall deadline,
// and report every attempt to the onRequest hook. The token lives in one header and nowhere else.

import { authorizationHeader } from "./auth.ts";
import { codeForStatus, FlyApiError, parseErrorBody } from "./errors.ts";
import { rateLimiterFromEnv, type RateLimiter } from "./rate-limit.ts";
import { backoffDelay, isRetryable, parseRetryAfter, type Replay, type RetryOptions } from "./retry.ts";

export type HttpMethod = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

/** One HTTP attempt, as reported to `onRequest` (no headers, no body, so no secrets). */
export interface RequestInfo {
  method: HttpMethod;
  /** URL path, e.g. `/v1/apps/web/machines`. */
  path: string;
  /** Query string including `?`, or "". */
  query: string;
  /** HTTP status, 0 when no response arrived. */
  status: number;
  /** false only for GET: the call log answers "did this run change anything?". */
  mutating: boolean;
  /** 1 for the first try, 2 for the first retry, ... */
  attempt: number;
  durationMs: number;
  /** Set when the attempt failed (HTTP error or transport error). */
  errorCode?: string;
}

export type QueryValue = string | number | boolean | undefined | readonly string[];

export interface Call {
  method: HttpMethod;
  path: string;
  query?: Record<string, QueryValue>;
  body?: unknown;
  leaseNonce?: string;
  replay: Replay;
  /** Overrides the client's per-request timeout (used by /wait, which blocks server-side). */
  timeoutMs?: number;
  /** Non-2xx statuses returned to the caller instead of thrown (e.g. 408 from /wait). */
  acceptStatuses?: readonly number[];
  signal?: AbortSignal;
}

export interface Reply {
  status: number;
  headers: Headers;
  text: string;
  requestId: string | undefined;
  attempts: number;
}

export interface TransportOptions {
  baseUrl: string;
  token: string;
  timeoutMs: number;
  deadlineMs: number;
  retry: RetryOptions;
  userAgent: string;
  onRequest?: (info: RequestInfo) => void;
  /** Randomness for backoff jitter; injectable so tests can pin it. */
  random?: () => number;
  /** Spaces calls under Fly's documented limits (./rate-limit.ts); default: Fly's limits on the env's clock. */
  limiter?: RateLimiter;
}

export interface Transport {
  send(call: Call): Promise<Reply>;
  readonly baseUrl: string;
}

export function createTransport(options: TransportOptions): Transport {
  const baseUrl = options.baseUrl.replace(/\/+$/, "");
  const authorization = authorizationHeader(options.token);
  const limiter = options.limiter ?? rateLimiterFromEnv(process.env);

  async function send(call: Call): Promise<Reply> {
    const query = buildQuery(call.query);
    const displayPath = call.path + query;
    const url = baseUrl + call.path + query;
    const requestTimeout = call.timeoutMs ?? options.timeoutMs;
    // A long /wait (which sets its own timeoutMs) must not be cut short by the general deadline.
    const deadline = Date.now() + Math.max(options.deadlineMs, call.timeoutMs ?? 0);
    const headers: Record<string, string> = {
      authorization,
      accept: "application/json",
      "user-agent": options.userAgent,
    };
    if (call.body !== undefined) headers["content-type"] = "application/json";
    if (call.leaseNonce) headers["fly-machine-lease-nonce"] = call.leaseNonce;
    const body = call.body === undefined ? undefined : JSON.stringify(call.body);

    let lastError: FlyApiError | undefined;
    for (let attempt = 1; ; attempt++) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw deadlineError(call.method, displayPath, attempt - 1, lastError);
      await limiter.acquire(call.method, call.path, call.signal);
      const started = performance.now();
      const timeoutSignal = AbortSignal.timeout(Math.min(requestTimeout, remaining));
      const signal = call.signal ? AbortSignal.any([timeoutSignal, call.signal]) : timeoutSignal;
      let status = 0;
      let refused = false;
      let error: FlyApiError;
      try {
        const response = await fetch(url, { method: call.method, headers, body, signal, redirect: "manual" });
        status = response.status;
        const text = await response.text();
        const requestId = response.headers.get("fly-request-id") ?? undefined;
        const ok = (status >= 200 && status < 300) || (call.acceptStatuses?.includes(status) ?? false);
        if (ok) {
          report(call, query, status, attempt, started);
          return { status, headers: response.headers, text, requestId, attempts: attempt };
        }
        const parsed = parseErrorBody(text);
        const retryAfterMs =
          status === 429 || status === 503 ? parseRetryAfter(response.headers.get("retry-after")) : undefined;
        error = new FlyApiError({
          code: codeForStatus(status),
          method: call.method,
          path: displayPath,
          status,
          apiMessage: parsed.apiMessage,
          apiStatus: parsed.apiStatus,
          requestId,
          attempts: attempt,
          retryAfterMs,
        });
      } catch (cause) {
        const code = timeoutSignal.aborted ? "timeout" : call.signal?.aborted ? "aborted" : "network_error";
        refused = isConnectionRefused(cause);
        // A body that broke off after the status line is still a transport failure; status stays 0 because
        // the response we saw is not one we can act on.
        error = new FlyApiError({ code, method: call.method, path: displayPath, status: 0, attempts: attempt, cause });
      }
      report(call, query, error.status, attempt, started, error.code);
      lastError = error;

      if (attempt > options.retry.retries || !isRetryable(error, call.replay, refused)) throw error;
      if (error.retryAfterMs !== undefined && error.retryAfterMs > options.retry.maxRetryAfterMs) throw error;
      const delay = backoffDelay(attempt, error, options.retry, options.random);
      if (Date.now() + delay >= deadline) throw deadlineError(call.method, displayPath, attempt, error);
      await Bun.sleep(delay);
      if (call.signal?.aborted) {
        throw new FlyApiError({
          code: "aborted",
          method: call.method,
          path: displayPath,
          status: 0,
          attempts: attempt,
        });
      }
    }
  }

  function report(call: Call, query: string, status: number, attempt: number, started: number, errorCode?: string) {
    if (!options.onRequest) return;
    try {
      options.onRequest({
        method: call.method,
        path: call.path,
        query,
        status,
        mutating: call.method !== "GET",
        attempt,
        durationMs: Math.round(performance.now() - started),
        ...(errorCode ? { errorCode } : {}),
      });
    } catch {
      // A faulty observer must not change the outcome of an API call.
    }
  }

  return { send, baseUrl };
}

function deadlineError(method: string, path: string, attempts: number, last: FlyApiError | undefined): FlyApiError {
  return new FlyApiError({
    code: "deadline_exceeded",
    method,
    path,
    status: last?.status ?? 0,
    apiMessage: last?.apiMessage,
    apiStatus: last?.apiStatus,
    requestId: last?.requestId,
    attempts,
    cause: last,
  });
}

/** Builds `?a=1&b=x` from defined values; arrays repeat the key (as the spec's `state` and `metadata.*` allow). */
export function buildQuery(query: Record<string, QueryValue> | undefined): string {
  if (!query) return "";
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const item of value) params.append(key, item);
    else params.append(key, String(value));
  }
  const text = params.toString();
  return text ? `?${text}` : "";
}

/** Expands `/v1/apps/{app_name}` with URI-encoded values (octokit endpoint style). */
export function expandPath(template: string, params: Record<string, string>): string {
  return template.replace(/\{([^}]+)\}/g, (_, name: string) => {
    const value = params[name];
    if (value === undefined || value === "") throw new TypeError(`missing path parameter ${name} for ${template}`);
    return encodeURIComponent(value);
  });
}

function isConnectionRefused(cause: unknown): boolean {
  const code = (cause as { code?: unknown } | null)?.code;
  return code === "ECONNREFUSED" || code === "ConnectionRefused";
}
