/**
 * Error reporting against a fake Sentry (test/fakes/sentry.ts, a real HTTP server reading envelopes as
 * Sentry's ingest does): one scrubbed event for a 500 with environment, release, request id, machine, region
 * and route template; none for a 404 or any 4xx, nor for a dependency fault; a hundred repeats are one event;
 * an unhandled rejection is reported and the process still exits 1.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { createLogger, silentLogger } from "../../../lib/log.ts";
import { HttpError } from "../../../src/errors.ts";
import { reporterFromConfig } from "../../../src/reporting/setup.ts";
import { type FakeSentry, startFakeSentry } from "../../fakes/sentry.ts";
import { createTestApp, type TestApp, testConfig } from "../../support/app.ts";
import { signUp, TEST_ENV, type TestUser } from "../api-helpers.ts";

const SECRET_KEY = "super-secret-signing-key-0123456789-abcdef";
const METRICS_TOKEN = "metrics-token-never-in-events";
const COOKIE = "session=cookie-value-never-in-events";
const BODY_SECRET = "request-body-value-never-in-events";

async function eventually<T>(read: () => T, ready: (value: T) => boolean, ms = 5000): Promise<T> {
  const deadline = performance.now() + ms;
  let value = read();
  while (!ready(value) && performance.now() < deadline) {
    await Bun.sleep(20);
    value = read();
  }
  return value;
}

describe("error reporting to Sentry", () => {
  let sentry: FakeSentry;
  let t: TestApp;
  let alice: TestUser;

  beforeAll(async () => {
    sentry = startFakeSentry();
    t = await createTestApp("sqlite", {
      ...TEST_ENV,
      SENTRY_DSN: sentry.dsn,
      SECRET_KEY,
      METRICS_TOKEN,
      APP_VERSION: "v42-test",
      FLY_MACHINE_ID: "e2865013d45e86",
      FLY_REGION: "ams",
    });
    // A route with a bug in it, whose error message holds every kind of thing that must not leave.
    t.app.post("/v1/boom/:id", ({ request }) => {
      throw new Error(
        `kaput ${SECRET_KEY} ${METRICS_TOKEN} ${request.headers.get("authorization")} postgres://u:pw-in-url@db:5432/x`,
      );
    });
    t.app.get("/v1/teapot", () => {
      throw new HttpError(418, "teapot", "a client error");
    });
    t.app.get("/v1/db-down", () => {
      throw Object.assign(new Error("Failed to connect"), { code: "ERR_POSTGRES_CONNECTION_REFUSED" });
    });
    t.app.get("/v1/other-bug", () => {
      throw new TypeError("another bug");
    });
    alice = await signUp(t);
  });
  afterAll(async () => {
    await t?.close();
    sentry?.stop();
  });

  const boom = (id = "123") =>
    t.request(`/v1/boom/${id}?token=query-token-never-in-events`, {
      method: "POST",
      headers: { authorization: `Bearer ${alice.token}`, cookie: COOKIE, "content-type": "application/json" },
      body: JSON.stringify({ secret: BODY_SECRET }),
    });

  test("a 500 sends one scrubbed event with the context an engineer needs", async () => {
    const res = await boom();
    expect(res.status).toBe(500);
    const requestId = res.headers.get("x-request-id")!;
    const events = await eventually(sentry.events, (e) => e.length >= 1);
    expect(events).toHaveLength(1);
    const event = events[0];
    expect(event).toMatchObject({
      environment: "test",
      release: "v42-test",
      server_name: "e2865013d45e86",
      level: "error",
      transaction: "POST /v1/boom/:id",
      tags: { request_id: requestId, route: "/v1/boom/:id", machine: "e2865013d45e86", region: "ams" },
      request: { method: "POST", url: "/v1/boom/:id" },
    });
    expect(event.exception.values[0].type).toBe("Error");
    expect(event.exception.values[0].value).toStartWith("kaput [scrubbed]");
    expect(event.exception.values[0].stacktrace.frames.length).toBeGreaterThan(0);
    expect(event.request.headers).toBeUndefined();
    expect(event.request.data).toBeUndefined();
    const raw = sentry.envelopes.map((e) => e.raw).join("\n");
    for (const leak of [
      SECRET_KEY,
      METRICS_TOKEN,
      alice.token,
      "cookie-value",
      BODY_SECRET,
      "pw-in-url",
      "query-token",
    ])
      expect(raw).not.toContain(leak);
    expect(sentry.refused).toEqual([]);
  });

  test("the same failure a hundred times is one event; a 404, a 4xx and a dependency fault send none", async () => {
    const before = sentry.envelopes.length;
    for (let i = 0; i < 100; i++) expect((await boom(String(i))).status).toBe(500);
    expect((await t.request("/v1/no-such-route")).status).toBe(404);
    expect((await t.request("/v1/teapot")).status).toBe(418);
    expect((await t.request("/v1/db-down")).status).toBe(503);
    // A different failure still gets through: the dedupe is per fingerprint, not a blanket mute.
    expect((await t.request("/v1/other-bug")).status).toBe(500);
    await eventually(sentry.events, (e) => e.length >= before + 1);
    await Bun.sleep(200);
    expect(
      sentry
        .events()
        .slice(before)
        .map((e) => e.exception.values[0].type),
    ).toEqual(["TypeError"]);
  });

  test("DATABASE_URL and its password never appear, even when an error quotes them", async () => {
    const url = "postgres://app:db-password-never-in-events@db.internal:5432/app";
    const config = testConfig({ DATABASE_URL: url, SENTRY_DSN: sentry.dsn, SECRET_KEY });
    const reporter = reporterFromConfig(config, silentLogger)!;
    const before = sentry.envelopes.length;
    reporter.captureRequestError(new Error(`cannot reach ${url} (password db-password-never-in-events)`), {
      requestId: "req-1",
      method: "GET",
      route: "/v1/x",
    });
    await reporter.flush();
    expect(sentry.envelopes.length).toBe(before + 1);
    const raw = sentry.envelopes.at(-1)!.raw;
    expect(raw).not.toContain("db-password-never-in-events");
    expect(raw).not.toContain("db.internal:5432/app");
  });

  test("an unhandled rejection is reported, then the process exits 1", async () => {
    const before = sentry.envelopes.length;
    const child = Bun.spawn(["bun", join(import.meta.dir, "fixtures", "unhandled.ts")], {
      env: { ...process.env, APP_ENV: "test", SENTRY_DSN: sentry.dsn, SECRET_KEY, APP_VERSION: "v42-test" },
      stdout: "ignore",
      stderr: "pipe",
    });
    expect(await child.exited).toBe(1);
    const events = sentry.events().slice(before);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ level: "fatal", release: "v42-test", tags: { mechanism: "unhandledRejection" } });
    expect(events[0].exception.values[0].value).toBe("background job failed near [scrubbed]");
  });

  test("with SENTRY_DSN unset there is no reporter", () => {
    expect(reporterFromConfig(testConfig({}), createLogger({ write: () => {} }))).toBeUndefined();
  });
});
