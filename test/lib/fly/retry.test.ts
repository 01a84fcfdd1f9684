import { describe, expect, test } from "bun:test";
import { FlyApiError } from "../../../lib/fly/errors.ts";
import { backoffDelay, DEFAULT_RETRY, isRetryable, parseRetryAfter } from "../../../lib/fly/retry.ts";

const error = (
  status: number,
  code: ConstructorParameters<typeof FlyApiError>[0]["code"] = "server_error",
  retryAfterMs?: number,
) => new FlyApiError({ code, method: "GET", path: "/v1/apps/x", status, retryAfterMs });

describe("parseRetryAfter", () => {
  test("seconds, HTTP dates, junk", () => {
    expect(parseRetryAfter("2")).toBe(2000);
    expect(parseRetryAfter("0.5")).toBe(500);
    expect(parseRetryAfter(null)).toBeUndefined();
    expect(parseRetryAfter("soon")).toBeUndefined();
    const now = Date.parse("2026-01-01T00:00:00Z");
    expect(parseRetryAfter("Thu, 01 Jan 2026 00:00:03 GMT", now)).toBe(3000);
    expect(parseRetryAfter("Wed, 31 Dec 2025 23:59:00 GMT", now)).toBe(0);
  });
});

describe("isRetryable", () => {
  test("safe calls retry 408/429/5xx and transport failures, not other 4xx", () => {
    for (const status of [408, 429, 500, 502, 503, 504]) expect(isRetryable(error(status), "safe", false)).toBe(true);
    for (const status of [400, 401, 404, 409, 412, 422])
      expect(isRetryable(error(status, "bad_request"), "safe", false)).toBe(false);
    expect(isRetryable(error(0, "network_error"), "safe", false)).toBe(true);
    expect(isRetryable(error(0, "timeout"), "safe", false)).toBe(true);
    expect(isRetryable(error(0, "aborted"), "safe", false)).toBe(false);
  });

  test("unsafe calls retry only what the server provably did not act on", () => {
    expect(isRetryable(error(429, "rate_limited"), "unsafe", false)).toBe(true);
    expect(isRetryable(error(0, "network_error"), "unsafe", true)).toBe(true);
    expect(isRetryable(error(0, "network_error"), "unsafe", false)).toBe(false);
    expect(isRetryable(error(0, "timeout"), "unsafe", false)).toBe(false);
    expect(isRetryable(error(500), "unsafe", false)).toBe(false);
    expect(isRetryable(error(408, "request_timeout"), "unsafe", false)).toBe(false);
  });
});

describe("backoffDelay", () => {
  test("exponential with jitter in [step/2, step], capped", () => {
    const options = { ...DEFAULT_RETRY, baseDelayMs: 100, maxDelayMs: 1000 };
    expect(backoffDelay(1, error(500), options, () => 0)).toBe(50);
    expect(backoffDelay(1, error(500), options, () => 1)).toBe(100);
    expect(backoffDelay(3, error(500), options, () => 1)).toBe(400);
    expect(backoffDelay(10, error(500), options, () => 1)).toBe(1000);
  });

  test("Retry-After wins; a bare 429 waits at least rateLimitDelayMs", () => {
    expect(backoffDelay(1, error(429, "rate_limited", 2500), DEFAULT_RETRY, () => 0)).toBe(2500);
    expect(backoffDelay(1, error(429, "rate_limited"), DEFAULT_RETRY, () => 0)).toBe(DEFAULT_RETRY.rateLimitDelayMs);
  });
});
