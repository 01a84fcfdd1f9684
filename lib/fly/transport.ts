/**
 * The only I/O of the client (octokit's fetch-wrapper split): one call = build the URL and headers once, then
 * let the shared retry runner (lib/http/retry.ts) repeat single attempts (./attempt.ts) inside an overall
 * deadline, and turn its outcome into a Reply or a FlyApiError. The token lives in one header and nowhere else.
 * @module
 */

import { withRetry } from "../http/retry.ts";
import { type PreparedCall, sendAttempt } from "./attempt.ts";
import { authorizationHeader } from "./auth.ts";
import { FlyApiError } from "./errors.ts";
import { buildQuery, expandPath, type QueryValue } from "./paths.ts";
import { type RateLimiter, rateLimiterFromEnv } from "./rate-limit.ts";
import type { RetryOptions } from "./retry.ts";
import type { Call, Reply, RequestInfo } from "./wire.ts";

export { buildQuery, expandPath, type QueryValue };
export type { Call, HttpMethod, Reply, RequestInfo } from "./wire.ts";

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
    const prepared = prepare(call);
    // A long /wait (which sets its own timeoutMs) must not be cut short by the general deadline.
    const deadline = Date.now() + Math.max(options.deadlineMs, call.timeoutMs ?? 0);
    const outcome = await withRetry({
      // Every attempt, retries included, waits for its action's slot: staying under Fly's limits beats a 429.
      attempt: async ({ attempt, remainingMs }) => {
        await limiter.acquire(call.method, call.path, call.signal);
        return sendAttempt(prepared, attempt, remainingMs, options.retry, options.onRequest);
      },
      policy: options.retry,
      deadline,
      signal: call.signal,
      random: options.random,
    });
    if (outcome.ok) return outcome.value;
    const { method } = call;
    const path = prepared.displayPath;
    if (outcome.reason === "deadline") throw deadlineError(method, path, outcome.attempts, outcome.error);
    if (outcome.reason === "aborted") {
      throw new FlyApiError({ code: "aborted", method, path, status: 0, attempts: outcome.attempts });
    }
    // Not retryable, retries used up, or a Retry-After too long to honour: the last answer is the error.
    throw outcome.error!;
  }

  function prepare(call: Call): PreparedCall {
    const query = buildQuery(call.query);
    const headers: Record<string, string> = {
      authorization,
      accept: "application/json",
      "user-agent": options.userAgent,
    };
    if (call.body !== undefined) headers["content-type"] = "application/json";
    if (call.leaseNonce) headers["fly-machine-lease-nonce"] = call.leaseNonce;
    return {
      call,
      url: baseUrl + call.path + query,
      displayPath: call.path + query,
      query,
      init: { method: call.method, headers, body: call.body === undefined ? undefined : JSON.stringify(call.body) },
      requestTimeoutMs: call.timeoutMs ?? options.timeoutMs,
    };
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
