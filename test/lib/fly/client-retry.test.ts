// Retry, timeout and deadline behaviour of the client, against small real servers that script each answer.
import { afterEach, describe, expect, test } from "bun:test";
import { createCallLog, createFlyClient, FlyApiError, type RequestInfo } from "../../../lib/fly/index.ts";
import { drop, FAST_RETRY, jsonResponse, scriptedServer, type ScriptedServer } from "./scripted-server.ts";
import { flyFailure } from "../../support/fly-errors.ts";

let server: ScriptedServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

function clientFor(s: ScriptedServer, extra: Parameters<typeof createFlyClient>[0] = {}) {
  return createFlyClient({ baseUrl: s.url, token: "fm2_topsecret", retry: FAST_RETRY, ...extra });
}

describe("retries", () => {
  test("429 is retried after the Retry-After the server asked for", async () => {
    server = scriptedServer((_, i) =>
      i === 0 ? jsonResponse({ error: "slow down" }, 429, { "retry-after": "1" }) : jsonResponse({ name: "web" }),
    );
    const log = createCallLog();
    const app = await clientFor(server, { onRequest: log.onRequest }).getApp("web");
    expect(app.name).toBe("web");
    expect(server.received).toHaveLength(2);
    // Honouring Retry-After is correctness, not speed: the second request must not come early.
    expect(server.received[1]!.at - server.received[0]!.at).toBeGreaterThanOrEqual(950);
    expect(log.calls.map((c) => [c.status, c.attempt])).toEqual([
      [429, 1],
      [200, 2],
    ]);
  });

  test("429 without Retry-After still waits at least rateLimitDelayMs", async () => {
    server = scriptedServer((_, i) => (i === 0 ? jsonResponse({ error: "slow down" }, 429) : jsonResponse([])));
    await clientFor(server, { retry: { ...FAST_RETRY, rateLimitDelayMs: 300 } }).listMachines("web");
    expect(server.received[1]!.at - server.received[0]!.at).toBeGreaterThanOrEqual(280);
  });

  test("5xx on an idempotent call is retried until it succeeds", async () => {
    server = scriptedServer((_, i) =>
      i < 2 ? jsonResponse({ error: "boom" }, i === 0 ? 502 : 500) : jsonResponse([{ id: "m1" }]),
    );
    const machines = await clientFor(server).listMachines("web");
    expect(machines.map((m) => m.id)).toEqual(["m1"]);
    expect(server.received).toHaveLength(3);
  });

  test("a dropped connection on an idempotent call is retried", async () => {
    server = scriptedServer((_, i) => (i === 0 ? drop() : jsonResponse({ name: "web" })));
    const log: RequestInfo[] = [];
    await clientFor(server, { onRequest: (info) => log.push(info) }).getApp("web");
    expect(log.map((c) => [c.status, c.errorCode ?? null])).toEqual([
      [0, "network_error"],
      [200, null],
    ]);
  });

  test("gives up after `retries` extra attempts with the last error", async () => {
    server = scriptedServer(() => jsonResponse({ error: "still down" }, 503));
    const error = await flyFailure(clientFor(server, { retries: 2 }).getApp("web"));
    expect(server.received).toHaveLength(3);
    expect(error.code).toBe("server_error");
    expect(error.status).toBe(503);
    expect(error.attempts).toBe(3);
    expect(error.apiMessage).toBe("still down");
  });

  test("4xx other than 408/429 is not retried", async () => {
    server = scriptedServer(() => jsonResponse({ error: "bad config" }, 400));
    const error = await flyFailure(clientFor(server).getApp("web"));
    expect(server.received).toHaveLength(1);
    expect(error.code).toBe("bad_request");
  });

  test("per-request timeout becomes code `timeout` (status 0) and is retried", async () => {
    server = scriptedServer(async (_, i) => {
      if (i === 0) await Bun.sleep(400);
      return jsonResponse({ name: "web" });
    });
    const log = createCallLog();
    await clientFor(server, { timeoutMs: 100, onRequest: log.onRequest }).getApp("web");
    expect(log.calls.map((c) => c.errorCode ?? "ok")).toEqual(["timeout", "ok"]);
    expect(log.calls[0]!.status).toBe(0);
  });

  test("a call that keeps timing out ends with `timeout` after the retries", async () => {
    server = scriptedServer(async () => {
      await Bun.sleep(300);
      return jsonResponse({});
    });
    const error = await flyFailure(clientFor(server, { timeoutMs: 50, retries: 1 }).getApp("web"));
    expect(error.code).toBe("timeout");
    expect(error.status).toBe(0);
    expect(error.attempts).toBe(2);
  });

  test("the overall deadline stops retrying: deadline_exceeded with the last status", async () => {
    server = scriptedServer(() => jsonResponse({ error: "busy" }, 503));
    const error = await flyFailure(
      clientFor(server, {
        deadlineMs: 150,
        retries: 100,
        retry: { ...FAST_RETRY, baseDelayMs: 40, maxDelayMs: 40 },
      }).getApp("web"),
    );
    expect(error.code).toBe("deadline_exceeded");
    expect(error.status).toBe(503);
    expect(error.apiMessage).toBe("busy");
    expect(server.received.length).toBeGreaterThan(1);
    expect(server.received.length).toBeLessThan(100);
  });

  test("a Retry-After beyond the deadline is not slept through", async () => {
    server = scriptedServer(() => jsonResponse({ error: "later" }, 429, { "retry-after": "3" }));
    const error = await flyFailure(clientFor(server, { deadlineMs: 500 }).getApp("web"));
    expect(error.code).toBe("deadline_exceeded");
    expect(server.received).toHaveLength(1);
  });

  test("refused connections are network errors with status 0", async () => {
    const client = createFlyClient({ baseUrl: "http://127.0.0.1:1", token: "fm2_x", retries: 1, retry: FAST_RETRY });
    const error = await flyFailure(client.getApp("web"));
    expect(error.code).toBe("network_error");
    expect(error.status).toBe(0);
    expect(error.attempts).toBe(2);
  });
});

describe("non-idempotent calls", () => {
  const config = { image: "registry.fly.io/web:1" };

  test("machine create is not replayed after a 500 (the machine may exist)", async () => {
    server = scriptedServer(() => jsonResponse({ error: "boom" }, 500));
    const error = await flyFailure(clientFor(server).createMachine("web", { config }));
    expect(error.status).toBe(500);
    expect(server.received).toHaveLength(1);
  });

  test("machine create is not replayed after a dropped connection", async () => {
    server = scriptedServer(() => drop());
    const error = await flyFailure(clientFor(server).createMachine("web", { config }));
    expect(error.code).toBe("network_error");
    expect(server.received).toHaveLength(1);
  });

  test("machine create is replayed after a 429 (the rate limiter refused it)", async () => {
    server = scriptedServer((_, i) =>
      i === 0
        ? jsonResponse({ error: "rate" }, 429, { "retry-after": "0" })
        : jsonResponse({ id: "m1", state: "created" }),
    );
    const machine = await clientFor(server).createMachine("web", { config });
    expect(machine.id).toBe("m1");
    expect(server.received.map((r) => r.method)).toEqual(["POST", "POST"]);
  });

  test("a named create recovers after an ambiguous failure by finding its machine instead of creating twice", async () => {
    server = scriptedServer((request, i) => {
      if (i === 0) return drop(); // the create happened, the answer was lost
      if (request.method === "GET") return jsonResponse([{ id: "m1", name: "web-1", state: "created" }]);
      return jsonResponse({ error: "should not be called" }, 500);
    });
    const machine = await clientFor(server).createMachine("web", { name: "web-1", config });
    expect(machine.id).toBe("m1");
    expect(server.received.map((r) => `${r.method} ${r.path}`)).toEqual([
      "POST /v1/apps/web/machines",
      "GET /v1/apps/web/machines",
    ]);
  });

  test("a named create that did not happen is sent again", async () => {
    server = scriptedServer((request, i) => {
      if (i === 0) return jsonResponse({ error: "boom" }, 502);
      if (request.method === "GET") return jsonResponse([]);
      return jsonResponse({ id: "m2", name: "web-1", state: "created" });
    });
    const machine = await clientFor(server).createMachine("web", { name: "web-1", config });
    expect(machine.id).toBe("m2");
    expect(server.received.map((r) => r.method)).toEqual(["POST", "GET", "POST"]);
  });

  test("createApp sends an idempotency_key, so a replay after a 5xx is safe and retried", async () => {
    server = scriptedServer((_, i) =>
      i === 0 ? jsonResponse({ error: "boom" }, 500) : jsonResponse({ id: "a1", created_at: 1 }, 201),
    );
    await clientFor(server).createApp({ name: "web", org_slug: "personal" });
    expect(server.received).toHaveLength(2);
    const keys = server.received.map((r) => JSON.parse(r.body).idempotency_key);
    expect(keys[0]).toBeString();
    expect(keys[1]).toBe(keys[0]);
  });

  test("lease acquire is not replayed after a 500", async () => {
    server = scriptedServer(() => jsonResponse({ error: "boom" }, 500));
    await flyFailure(clientFor(server).acquireLease("web", "m1"));
    expect(server.received).toHaveLength(1);
  });

  test("a delete retried after a dropped answer treats 404 as done", async () => {
    server = scriptedServer((_, i) => (i === 0 ? drop() : jsonResponse({ error: "machine not found" }, 404)));
    await clientFor(server).destroyMachine("web", "m1", { force: true });
    expect(server.received.map((r) => r.query)).toEqual(["?force=true", "?force=true"]);
  });

  test("a first-attempt 404 on delete is still an error", async () => {
    server = scriptedServer(() => jsonResponse({ error: "machine not found" }, 404));
    const error = await flyFailure(clientFor(server).destroyMachine("web", "m1"));
    expect(error.code).toBe("not_found");
  });
});

describe("errors", () => {
  test("carry method, path, status, API message, API status and request id, never the token", async () => {
    server = scriptedServer(() =>
      jsonResponse({ error: "app name web is already taken", status: "name_taken" }, 422, {
        "fly-request-id": "01REQ123",
      }),
    );
    const error = await flyFailure(clientFor(server).createApp({ name: "web", org_slug: "personal" }));
    expect(error).toBeInstanceOf(FlyApiError);
    expect(error.code).toBe("unprocessable");
    expect(error.method).toBe("POST");
    expect(error.path).toBe("/v1/apps");
    expect(error.status).toBe(422);
    expect(error.apiMessage).toBe("app name web is already taken");
    expect(error.apiStatus).toBe("name_taken");
    expect(error.requestId).toBe("01REQ123");
    expect(error.message).toContain("POST /v1/apps");
    expect(error.message).toContain("01REQ123");
    for (const text of [error.message, String(error), JSON.stringify(error), Bun.inspect(error), error.stack ?? ""]) {
      expect(text).not.toContain("topsecret");
    }
  });

  test("network errors do not leak the token either", async () => {
    const client = createFlyClient({ baseUrl: "http://127.0.0.1:1", token: "fm2_topsecret", retries: 0 });
    const error = await flyFailure(client.getApp("web"));
    expect(Bun.inspect(error)).not.toContain("topsecret");
    expect(JSON.stringify(error)).not.toContain("topsecret");
  });

  test("a non-JSON error body is kept as the message (fly-go falls back to the raw body)", async () => {
    server = scriptedServer(() => new Response("upstream connect error", { status: 400 }));
    const error = await flyFailure(clientFor(server).getApp("web"));
    expect(error.apiMessage).toBe("upstream connect error");
  });

  test("a success with a body that is not JSON is invalid_response, not a crash", async () => {
    server = scriptedServer(() => new Response("<html>", { status: 200 }));
    const error = await flyFailure(clientFor(server).getApp("web"));
    expect(error.code).toBe("invalid_response");
    expect(error.path).toBe("/v1/apps/web");
  });

  test("an aborted call is `aborted` and not retried", async () => {
    server = scriptedServer(async () => {
      await Bun.sleep(300);
      return jsonResponse({});
    });
    const error = await flyFailure(clientFor(server).getApp("web", { signal: AbortSignal.timeout(30) }));
    expect(error.code).toBe("aborted");
    expect(server.received).toHaveLength(1);
  });
});

describe("wait", () => {
  test("a 408 from /wait is a typed result, not an error, and is not retried", async () => {
    server = scriptedServer(() => jsonResponse({ error: "deadline_exceeded" }, 408));
    const result = await clientFor(server).waitMachine("web", "m1", { state: "started", timeoutSeconds: 5 });
    expect(result).toEqual({ ok: false, timedOut: true });
    expect(server.received).toHaveLength(1);
    expect(server.received[0]!.query).toBe("?state=started&timeout=5");
  });

  test("the wait timeout is clamped to 1..60 s and the request outlives a short client timeout", async () => {
    server = scriptedServer(async () => {
      await Bun.sleep(200);
      return jsonResponse({ ok: true, state: "started", version: "v1", event_id: "e1" });
    });
    // timeoutMs (per request) is 50 ms, but /wait gets its own `timeout` + margin.
    const result = await clientFor(server, { timeoutMs: 50 }).waitMachine("web", "m1", {
      state: ["started", "stopped"],
      timeoutSeconds: 600,
      version: "v1",
    });
    expect(result).toEqual({ ok: true, state: "started", version: "v1", eventId: "e1" });
    // The state goes out repeated, as fly-go sends it (fly-machines-api.md §12.12).
    expect(server.received[0]!.query).toBe("?state=started&state=stopped&version=v1&timeout=60");
  });
});

describe("leases and secrets wire shapes", () => {
  test("lease responses are read in both the wrapped (docs, fly-go) and flat (spec) shapes; nonce header sent", async () => {
    server = scriptedServer((_request, i) => {
      if (i === 0) return jsonResponse({ status: "success", data: { nonce: "n1", expires_at: 10, owner: "me" } }, 201);
      if (i === 1) return jsonResponse({ nonce: "n1", expires_at: 20, owner: "me" }, 201);
      return jsonResponse({ status: "success", data: { ok: true } });
    });
    const client = clientFor(server);
    expect((await client.acquireLease("web", "m1", { ttlSeconds: 13 })).nonce).toBe("n1");
    expect((await client.refreshLease("web", "m1", "n1", { ttlSeconds: 13 })).expires_at).toBe(20);
    await client.releaseLease("web", "m1", "n1");
    expect(JSON.parse(server.received[0]!.body)).toEqual({ ttl: 13 });
    expect(server.received[0]!.headers.get("fly-machine-lease-nonce")).toBeNull();
    expect(server.received[1]!.headers.get("fly-machine-lease-nonce")).toBe("n1");
    expect(server.received[2]!.headers.get("fly-machine-lease-nonce")).toBe("n1");
  });

  test("secrets writes return the version, also from the deprecated `Version` field", async () => {
    server = scriptedServer((_, i) =>
      i === 0 ? jsonResponse({ secrets: [], version: 7 }) : jsonResponse({ Version: 8 }),
    );
    const client = clientFor(server);
    expect((await client.setSecrets("web", { A: "1" })).version).toBe(7);
    expect((await client.unsetSecret("web", "A")).version).toBe(8);
    expect(JSON.parse(server.received[0]!.body)).toEqual({ values: { A: "1" } });
  });

  test("a secrets write without a version is an invalid_response", async () => {
    server = scriptedServer(() => jsonResponse({ secrets: [] }));
    const error = await flyFailure(clientFor(server).setSecrets("web", { A: "1" }));
    expect(error.code).toBe("invalid_response");
  });
});
