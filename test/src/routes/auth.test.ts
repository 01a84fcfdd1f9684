import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHmac } from "node:crypto";
import { createTestApp, type TestApp } from "../../support/app.ts";
import { bearer, DIALECTS, errorOf, json, PASSWORD, signUp, TEST_ENV } from "../api-helpers.ts";

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

describe.each(DIALECTS)("auth on %s", (dialect) => {
  let t: TestApp;
  let now = Date.now();
  beforeAll(async () => {
    t = await createTestApp(dialect, TEST_ENV, { clock: () => now });
  });
  afterAll(() => t.close());

  test("register normalises the email, stores an argon2id hash and never returns it", async () => {
    const res = await t.request(
      "/v1/auth/register",
      json("POST", { email: "  Alice@Example.COM ", password: PASSWORD }),
    );
    expect(res.status).toBe(201);
    const body = (await res.json()) as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(["created_at", "email", "id"]);
    expect(body.email).toBe("alice@example.com");
    const stored = await t.db.repo.users.findByEmail("alice@example.com");
    expect(stored?.passwordHash).toStartWith("$argon2id$");
    expect(stored?.passwordHash).not.toContain(PASSWORD);
  });

  test("a duplicate email (in any case) is 409; a short password or bad email is 422", async () => {
    const dup = await t.request("/v1/auth/register", json("POST", { email: "ALICE@example.com", password: PASSWORD }));
    expect(dup.status).toBe(409);
    expect((await errorOf(dup)).code).toBe("conflict");
    const short = await t.request(
      "/v1/auth/register",
      json("POST", { email: "bob@example.com", password: "elevenchars" }),
    );
    expect(short.status).toBe(422);
    expect(JSON.stringify((await errorOf(short)).details)).toContain("/password");
    const badEmail = await t.request("/v1/auth/register", json("POST", { email: "not-an-email", password: PASSWORD }));
    expect(badEmail.status).toBe(422);
    expect(await t.db.repo.users.findByEmail("bob@example.com")).toBeUndefined();
  });

  test("login returns a 30-minute HS256 bearer token with sub, iat, exp and jti", async () => {
    const res = await t.request("/v1/auth/login", json("POST", { email: "alice@EXAMPLE.com", password: PASSWORD }));
    expect(res.status).toBe(200);
    const body = (await res.json()) as { access_token: string; token_type: string; expires_in: number };
    expect(body.token_type).toBe("Bearer");
    expect(body.expires_in).toBe(1800);
    const [header, payload] = body.access_token
      .split(".")
      .slice(0, 2)
      .map((p) => JSON.parse(Buffer.from(p, "base64url").toString() || "null"));
    expect(header).toEqual({ alg: "HS256", typ: "JWT" });
    const user = await t.db.repo.users.findByEmail("alice@example.com");
    expect(payload.sub).toBe(user!.id);
    expect(payload.exp - payload.iat).toBe(1800);
    expect(typeof payload.jti).toBe("string");
    const me = await t.request("/v1/me", bearer(body.access_token));
    expect(me.status).toBe(200);
    expect(((await me.json()) as { email: string }).email).toBe("alice@example.com");
  });

  test("wrong email and wrong password get the same 401", async () => {
    const wrongPassword = await t.request(
      "/v1/auth/login",
      json("POST", { email: "alice@example.com", password: "wrong password!!" }),
    );
    const wrongEmail = await t.request(
      "/v1/auth/login",
      json("POST", { email: "nobody@example.com", password: PASSWORD }),
    );
    expect(wrongPassword.status).toBe(401);
    expect(wrongEmail.status).toBe(401);
    const [a, b] = [await errorOf(wrongPassword), await errorOf(wrongEmail)];
    expect({ ...a, request_id: "" }).toEqual({ ...b, request_id: "" });
  });

  test("GET /v1/me refuses missing, alg none, other-algorithm, forged, expired and deleted-user tokens", async () => {
    const user = await signUp(t);
    const [, payloadPart] = user.token.split(".");
    const claims = JSON.parse(Buffer.from(payloadPart!, "base64url").toString());
    const sign = (alg: string, header: unknown, key: string) => {
      const input = `${b64(header)}.${b64(claims)}`;
      return `${input}.${createHmac(alg, key).update(input).digest("base64url")}`;
    };
    const cases: Record<string, RequestInit> = {
      missing: {},
      notBearer: { headers: { authorization: `Basic ${btoa("a:b")}` } },
      none: bearer(`${b64({ alg: "none", typ: "JWT" })}.${payloadPart}.`),
      hs512: bearer(sign("sha512", { alg: "HS512", typ: "JWT" }, t.config.secretKey)),
      forged: bearer(sign("sha256", { alg: "HS256", typ: "JWT" }, "an attacker's guess at the secret key")),
      garbage: bearer("not.a.token"),
    };
    for (const [name, init] of Object.entries(cases)) {
      const res = await t.request("/v1/me", init);
      expect([name, res.status]).toEqual([name, 401]);
      expect(res.headers.get("www-authenticate")).toContain("Bearer");
    }
    expect((await t.request("/v1/me", bearer(user.token))).status).toBe(200);

    now += 31 * 60 * 1000;
    const expired = await t.request("/v1/me", bearer(user.token));
    expect(expired.status).toBe(401);
    expect((await errorOf(expired)).message).toContain("expired");
    now -= 31 * 60 * 1000;

    await t.db.repo.users.delete(user.id);
    expect((await t.request("/v1/me", bearer(user.token))).status).toBe(401);
  });

  test("registration can be switched off (403)", async () => {
    const closed = await createTestApp(dialect, { ...TEST_ENV, ENABLE_REGISTRATION: "false" });
    try {
      const res = await closed.request(
        "/v1/auth/register",
        json("POST", { email: "carol@example.com", password: PASSWORD }),
      );
      expect(res.status).toBe(403);
      expect((await errorOf(res)).code).toBe("registration_disabled");
      expect(await closed.db.repo.users.findByEmail("carol@example.com")).toBeUndefined();
    } finally {
      await closed.close();
    }
  });
});

describe.each(DIALECTS)("auth rate limit on %s", (dialect) => {
  let t: TestApp;
  let now = Date.now();
  beforeAll(async () => {
    t = await createTestApp(dialect, { RATE_LIMIT_PER_MINUTE: "1000", TRUST_PROXY: "true" }, { clock: () => now });
  });
  afterAll(() => t.close());

  const attempt = (ip: string) =>
    t.request(
      "/v1/auth/login",
      json("POST", { email: "x@example.com", password: "wrong password!!" }, undefined, { "fly-client-ip": ip }),
    );

  test("the 6th attempt from one IP within a minute gets 429 with Retry-After; other IPs are unaffected", async () => {
    for (let i = 1; i <= 5; i++) expect((await attempt("203.0.113.7")).status).toBe(401);
    const limited = await attempt("203.0.113.7");
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(limited.headers.get("ratelimit-remaining")).toBe("0");
    expect((await errorOf(limited)).code).toBe("rate_limited");
    // Registration shares the budget: a guesser cannot switch endpoints.
    expect(
      (
        await t.request(
          "/v1/auth/register",
          json("POST", { email: "y@example.com", password: PASSWORD }, undefined, { "fly-client-ip": "203.0.113.7" }),
        )
      ).status,
    ).toBe(429);
    expect((await attempt("198.51.100.1")).status).toBe(401);

    now += 61_000;
    expect((await attempt("203.0.113.7")).status).toBe(401);
  });
});
