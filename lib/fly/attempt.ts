/**
 * One HTTP attempt of a Fly API call: send with a per-attempt timeout, read the body, and turn any failure into a
 * FlyApiError with the verdict the retry runner needs (retryable for this call's replay class, Retry-After, the
 * 429 floor). Every attempt is reported to the observer; the report carries no headers or body, so no secrets.
 * @module
 */

import { codeForStatus, FlyApiError, parseErrorBody } from "./errors.ts";
import { failureVerdict, parseRetryAfter, type RetryOptions } from "./retry.ts";
import type { AttemptResult } from "../http/retry.ts";
import type { Call, Reply, RequestInfo } from "./wire.ts";

/** A call made ready to send: everything but the per-attempt timeout is fixed before the first attempt. */
export interface PreparedCall {
  call: Call;
  url: string;
  /** `call.path` plus query: how errors name the request. */
  displayPath: string;
  query: string;
  init: { method: string; headers: Record<string, string>; body: string | undefined };
  requestTimeoutMs: number;
}

export async function sendAttempt(
  prepared: PreparedCall,
  attempt: number,
  remainingMs: number,
  retry: RetryOptions,
  onRequest: ((info: RequestInfo) => void) | undefined,
): Promise<AttemptResult<Reply, FlyApiError>> {
  const { call, displayPath } = prepared;
  const started = performance.now();
  const report = (status: number, errorCode?: string) =>
    notify(onRequest, {
      method: call.method,
      path: call.path,
      query: prepared.query,
      status,
      mutating: call.method !== "GET",
      attempt,
      durationMs: Math.round(performance.now() - started),
      ...(errorCode ? { errorCode } : {}),
    });
  const timeoutSignal = AbortSignal.timeout(Math.min(prepared.requestTimeoutMs, remainingMs));
  const signal = call.signal ? AbortSignal.any([timeoutSignal, call.signal]) : timeoutSignal;
  let refused = false;
  let error: FlyApiError;
  try {
    const response = await fetch(prepared.url, { ...prepared.init, signal, redirect: "manual" });
    const status = response.status;
    const text = await response.text();
    const requestId = response.headers.get("fly-request-id") ?? undefined;
    if ((status >= 200 && status < 300) || (call.acceptStatuses?.includes(status) ?? false)) {
      report(status);
      return { ok: true, value: { status, headers: response.headers, text, requestId, attempts: attempt } };
    }
    const parsed = parseErrorBody(text);
    error = new FlyApiError({
      code: codeForStatus(status),
      method: call.method,
      path: displayPath,
      status,
      apiMessage: parsed.apiMessage,
      apiStatus: parsed.apiStatus,
      requestId,
      attempts: attempt,
      retryAfterMs: status === 429 || status === 503 ? parseRetryAfter(response.headers.get("retry-after")) : undefined,
    });
  } catch (cause) {
    const code = timeoutSignal.aborted ? "timeout" : call.signal?.aborted ? "aborted" : "network_error";
    refused = isConnectionRefused(cause);
    // A body that broke off after the status line is still a transport failure; status stays 0 because
    // the response we saw is not one we can act on.
    error = new FlyApiError({ code, method: call.method, path: displayPath, status: 0, attempts: attempt, cause });
  }
  report(error.status, error.code);
  return { ok: false, error, ...failureVerdict(error, call.replay, refused, retry) };
}

function notify(onRequest: ((info: RequestInfo) => void) | undefined, info: RequestInfo): void {
  if (!onRequest) return;
  try {
    onRequest(info);
  } catch {
    // A faulty observer must not change the outcome of an API call.
  }
}

function isConnectionRefused(cause: unknown): boolean {
  const code = (cause as { code?: unknown } | null)?.code;
  return code === "ECONNREFUSED" || code === "ConnectionRefused";
}
