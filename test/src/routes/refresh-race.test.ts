/**
 * Two refreshes of the same token at the same moment (issue 22): exactly one wins, the other is reuse
 * (RFC 9700 section 4.14.2), and the reuse revokes the whole family, the winner's fresh pair included. On
 * PostgreSQL the two run on two apps with their own pools on one database, as two machines would. Without
 * rotation in one transaction the loser could revoke the family before the winner's successor row existed,
 * leaving that token alive after a detected theft; the rounds give that window many chances to show.
 * @module
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { AnyElysia } from "elysia";
import { createApp } from "../../../src/app.ts";
import { type Database, openDatabase } from "../../../src/db/database.ts";
import { createTestApp, type TestApp } from "../../support/app.ts";
import { bearer, DIALECTS, errorOf, json, PASSWORD, TEST_ENV } from "../api-helpers.ts";

const ROUNDS = 12;

for (const dialect of DIALECTS) {
  describe(`concurrent refresh on ${dialect}`, () => {
    let t: TestApp;
    let secondDb: Database | undefined;
    let second: AnyElysia;
    const email = `race-${crypto.randomUUID().slice(0, 8)}@example.com`;

    beforeAll(async () => {
      t = await createTestApp(dialect, TEST_ENV);
      if (dialect === "postgres") {
        secondDb = await openDatabase(t.config);
        second = createApp(t.config, { db: secondDb });
      } else {
        // One SQLite file has one writer process; the race is between requests of that one app.
        second = t.app;
      }
      expect((await t.request("/v1/auth/register", json("POST", { email, password: PASSWORD }))).status).toBe(201);
    });
    afterAll(async () => {
      await secondDb?.close();
      await t.close();
    });

    const on = (app: AnyElysia, path: string, init: RequestInit) =>
      app.handle(new Request(`http://localhost${path}`, init));

    test("exactly one of two simultaneous refreshes wins; the other is reuse and ends the session", async () => {
      for (let round = 0; round < ROUNDS; round++) {
        const login = await t.request("/v1/auth/login", json("POST", { email, password: PASSWORD }));
        const { refresh_token } = (await login.json()) as { refresh_token: string };
        const body = json("POST", { refresh_token });
        const answers = await Promise.all([on(t.app, "/v1/auth/refresh", body), on(second, "/v1/auth/refresh", body)]);
        const statuses = answers.map((r) => r.status).sort();
        expect(statuses).toEqual([200, 401]);
        const winner = answers.find((r) => r.status === 200) as Response;
        const loser = answers.find((r) => r.status === 401) as Response;
        expect((await errorOf(loser)).code).toBe("refresh_token_reused");

        // The reuse revoked the family after the winner's rotation committed: its new pair is dead too.
        const fresh = (await winner.json()) as { access_token: string; refresh_token: string };
        const me = await t.request("/v1/me", bearer(fresh.access_token));
        expect(me.status).toBe(401);
        expect((await errorOf(me)).code).toBe("session_revoked");
        const next = await on(second, "/v1/auth/refresh", json("POST", { refresh_token: fresh.refresh_token }));
        expect(next.status).toBe(401);
        expect((await errorOf(next)).code).toBe("session_revoked");
      }
    }, 60_000);

    test("refreshes racing logout-all on the other machine: none of their successors outlives it", async () => {
      for (let round = 0; round < 8; round++) {
        const pairs: { access_token: string; refresh_token: string }[] = [];
        for (let i = 0; i < 5; i++) {
          const res = await t.request("/v1/auth/login", json("POST", { email, password: PASSWORD }));
          pairs.push((await res.json()) as (typeof pairs)[number]);
        }
        const [caller, ...others] = pairs as [(typeof pairs)[number], ...typeof pairs];
        const [ended, ...refreshed] = await Promise.all([
          on(t.app, "/v1/auth/logout-all", { method: "POST", ...bearer(caller.access_token) }),
          ...others.map((p) => on(second, "/v1/auth/refresh", json("POST", { refresh_token: p.refresh_token }))),
        ]);
        expect(ended?.status).toBe(204);
        for (const res of refreshed) {
          // Before the logout (200, its pair then revoked with the rest) or after it (401); never a 500.
          expect([200, 401]).toContain(res.status);
          if (res.status !== 200) continue;
          const pair = (await res.json()) as { access_token: string };
          const me = await on(t.app, "/v1/me", bearer(pair.access_token));
          expect([round, me.status]).toEqual([round, 401]);
        }
      }
    }, 60_000);

    test("a refresh racing logout of the same session on the other machine: its successor does not outlive it", async () => {
      for (let round = 0; round < 25; round++) {
        const login = await t.request("/v1/auth/login", json("POST", { email, password: PASSWORD }));
        const { refresh_token } = (await login.json()) as { refresh_token: string };
        const body = json("POST", { refresh_token });
        const [loggedOut, refreshed] = await Promise.all([
          on(t.app, "/v1/auth/logout", body),
          on(second, "/v1/auth/refresh", body),
        ]);
        // logout finds the row whether or not the refresh used it first.
        expect(loggedOut.status).toBe(204);
        expect([200, 401]).toContain(refreshed.status);
        if (refreshed.status !== 200) continue;
        const pair = (await refreshed.json()) as { access_token: string };
        expect([round, (await on(t.app, "/v1/me", bearer(pair.access_token))).status]).toEqual([round, 401]);
      }
    }, 60_000);
  });
}
