/**
 * Sessions through the real app on both databases (issue 22): login shape, rotation, reuse revoking the
 * family (RFC 9700 section 4.14.2), logout, logout-all and the distinct 401 codes. The clock is injected so
 * expiry is tested without waiting.
 * @module
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createTestApp, type TestApp } from "../../support/app.ts";
import { bearer, DIALECTS, errorOf, json, PASSWORD, TEST_ENV } from "../api-helpers.ts";

interface Pair {
  access_token: string;
  refresh_token: string;
  token_type: string;
  expires_in: number;
  refresh_expires_in: number;
}

for (const dialect of DIALECTS) {
  describe(`sessions on ${dialect}`, () => {
    let t: TestApp;
    let now = Date.parse("2026-01-01T00:00:00Z");
    const email = "sessions@example.com";

    beforeAll(async () => {
      t = await createTestApp(dialect, TEST_ENV, { clock: () => now });
      const reg = await t.request("/v1/auth/register", json("POST", { email, password: PASSWORD }));
      expect(reg.status).toBe(201);
    });
    afterAll(() => t.close());

    const login = async (): Promise<Pair> => {
      const res = await t.request("/v1/auth/login", json("POST", { email, password: PASSWORD }));
      expect(res.status).toBe(200);
      return (await res.json()) as Pair;
    };
    const refresh = (token: string) => t.request("/v1/auth/refresh", json("POST", { refresh_token: token }));
    const me = (token: string) => t.request("/v1/me", bearer(token));
    const codeOf = async (res: Response) => {
      expect(res.status).toBe(401);
      return (await errorOf(res)).code;
    };

    test("login answers an access token naming its session, a refresh token and integer lifetimes", async () => {
      const pair = await login();
      expect(pair.token_type).toBe("Bearer");
      expect(pair.expires_in).toBe(30 * 60);
      expect(pair.refresh_expires_in).toBe(7 * 86_400);
      // 32 random bytes in base64url.
      expect(pair.refresh_token).toMatch(/^[A-Za-z0-9_-]{43}$/);
      const claims = JSON.parse(Buffer.from(pair.access_token.split(".")[1] ?? "", "base64url").toString());
      expect(typeof claims.sid).toBe("string");
      expect((await me(pair.access_token)).status).toBe(200);
    });

    test("refresh rotates: a new pair that works, and the old access token still works until it expires", async () => {
      const first = await login();
      const res = await refresh(first.refresh_token);
      expect(res.status).toBe(200);
      const second = (await res.json()) as Pair;
      expect(second.refresh_token).not.toBe(first.refresh_token);
      expect((await me(second.access_token)).status).toBe(200);
      const third = await refresh(second.refresh_token);
      expect(third.status).toBe(200);
    });

    test("a rotated refresh token presented again is reuse: the whole family is revoked", async () => {
      const first = await login();
      const second = (await (await refresh(first.refresh_token)).json()) as Pair;
      expect(await codeOf(await refresh(first.refresh_token))).toBe("refresh_token_reused");
      // Every token descended from that login is refused now, access tokens included.
      expect(await codeOf(await refresh(second.refresh_token))).toBe("session_revoked");
      expect(await codeOf(await me(second.access_token))).toBe("session_revoked");
      expect(await codeOf(await me(first.access_token))).toBe("session_revoked");
      // Another login of the same account is untouched.
      const other = await login();
      expect((await me(other.access_token)).status).toBe(200);
    });

    test("logout ends that session only; logout-all ends every session of the account", async () => {
      const a = await login();
      const b = await login();
      const out = await t.request("/v1/auth/logout", json("POST", { refresh_token: a.refresh_token }));
      expect(out.status).toBe(204);
      expect(await codeOf(await me(a.access_token))).toBe("session_revoked");
      expect(await codeOf(await refresh(a.refresh_token))).toBe("session_revoked");
      expect((await me(b.access_token)).status).toBe(200);
      // The project routes' single query checks the session too.
      const project = await t.request("/v1/projects", json("POST", { name: "p1" }, b.access_token));
      expect(project.status).toBe(201);
      const { id } = (await project.json()) as { id: string };

      const all = await t.request("/v1/auth/logout-all", { method: "POST", ...bearer(b.access_token) });
      expect(all.status).toBe(204);
      expect(await codeOf(await me(b.access_token))).toBe("session_revoked");
      expect(await codeOf(await t.request(`/v1/projects/${id}`, bearer(b.access_token)))).toBe("session_revoked");
      expect(await codeOf(await refresh(b.refresh_token))).toBe("session_revoked");
    });

    test("expired, garbage and unknown tokens answer distinct codes", async () => {
      const pair = await login();
      expect(await codeOf(await me("not.a.token"))).toBe("token_invalid");
      expect(await codeOf(await refresh("A".repeat(43)))).toBe("token_invalid");
      now += 31 * 60 * 1000;
      expect(await codeOf(await me(pair.access_token))).toBe("token_expired");
      // The refresh token outlives the access token.
      const next = await refresh(pair.refresh_token);
      expect(next.status).toBe(200);
      const { refresh_token } = (await next.json()) as Pair;
      now += 8 * 86_400 * 1000;
      expect(await codeOf(await refresh(refresh_token))).toBe("token_expired");
    });
  });
}
