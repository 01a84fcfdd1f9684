/** The request path's cheap shapes (issue 13) keep their behaviour: the synchronous schema guard and hooks Elysia does not await. */
import { describe, expect, test } from "bun:test";
import { createApp } from "../../../src/app.ts";
import type { SchemaStatus } from "../../../src/db/migrations.ts";
import { createTestApp } from "../../support/app.ts";
import { errorOf } from "../api-helpers.ts";

describe("schema guard", () => {
  test("routes answer 503 until the gate says up to date, then pass; /health is never guarded", async () => {
    const t = await createTestApp("sqlite");
    try {
      let verdict: SchemaStatus = {
        upToDate: false,
        pending: 1,
        reason: "database schema is behind: 1 migration(s) not applied",
      };
      let asked = 0;
      const app = createApp(t.config, {
        db: t.db,
        schema: {
          status: async () => {
            asked++;
            return verdict;
          },
        },
      });
      await Bun.sleep(0);
      const behind = await app.handle(new Request("http://localhost/v1/projects"));
      expect(behind.status).toBe(503);
      expect(await errorOf(behind)).toMatchObject({ code: "schema_behind", message: verdict.reason });
      expect((await app.handle(new Request("http://localhost/health/live"))).status).toBe(200);

      verdict = { upToDate: true, pending: 0 };
      // The request that finds the gate behind asks it again; the next one sees the new verdict.
      await app.handle(new Request("http://localhost/v1/projects"));
      await Bun.sleep(0);
      expect((await app.handle(new Request("http://localhost/v1/projects"))).status).toBe(401);
      const askedWhenUp = asked;
      for (let i = 0; i < 5; i++) await app.handle(new Request("http://localhost/v1/projects"));
      expect(asked).toBe(askedWhenUp);
    } finally {
      await t.close();
    }
  });

  test("a gate that fails to answer keeps routes at 503 with the reason", async () => {
    const t = await createTestApp("sqlite");
    try {
      const app = createApp(t.config, {
        db: t.db,
        schema: {
          status: async () => {
            throw new Error("connection refused");
          },
        },
      });
      await Bun.sleep(0);
      const res = await app.handle(new Request("http://localhost/v1/projects"));
      expect(res.status).toBe(503);
      expect((await errorOf(res)).message).toContain("connection refused");
    } finally {
      await t.close();
    }
  });
});

/** The service as preview runs it, behind an open production gate, warmed up by one request. */
async function withWarmedApp(run: (app: ReturnType<typeof createApp>) => Promise<void>) {
  const t = await createTestApp("sqlite", {
    APP_ENV: "preview",
    SECRET_KEY: "p".repeat(40),
    ALLOWED_ORIGINS: "https://app.example.com",
  });
  try {
    const app = createApp(t.config, { db: t.db, schema: { status: async () => ({ upToDate: true, pending: 0 }) } });
    await app.handle(new Request("http://localhost/health/live"));
    await run(app);
  } finally {
    await t.close();
  }
}

test("no onRequest hook is awaited: Elysia awaits a hook whose source looks async, costing a turn per request", () =>
  withWarmedApp(async (app) => {
    const general = String((app as unknown as { fetch: unknown }).fetch);
    expect(general).toContain("onRequest[0](c)");
    expect(general).not.toMatch(/await onRequest/);
  }));

test("a synchronous route answers synchronously: no global hook makes Elysia compile the route as async", () =>
  withWarmedApp(async (app) => {
    // A Promise here means a hook's source looked async to Elysia (e.g. `return f(...)`), and every request
    // pays for an extra promise and turn through Bun's server.
    const answer = (app as unknown as { fetch(request: Request): unknown }).fetch(
      new Request("http://localhost/health/live"),
    );
    expect(answer).toBeInstanceOf(Response);
    expect(await (answer as Response).json()).toEqual({ status: "ok" });
  }));
