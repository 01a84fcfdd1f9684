/**
 * POST /v1/me/password and DELETE /v1/me through the real app on both databases (issue 22), and the auth rate
 * limit covering refresh and these routes. Deletion is checked on the media folder itself and on another
 * account's data, which must survive.
 * @module
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { createTestApp, json as readJson, type TestApp } from "../../support/app.ts";
import {
  bearer,
  createProject,
  DIALECTS,
  errorOf,
  json,
  PASSWORD,
  signUp,
  TEST_ENV,
  type TestUser,
} from "../api-helpers.ts";

const NEW_PASSWORD = "another horse battery staple";

interface Pair {
  access_token: string;
  refresh_token: string;
}

for (const dialect of DIALECTS) {
  describe(`account routes on ${dialect}`, () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await createTestApp(dialect, TEST_ENV);
    });
    afterAll(() => t.close());

    const login = async (email: string, password = PASSWORD) => {
      const res = await t.request("/v1/auth/login", json("POST", { email, password }));
      expect(res.status).toBe(200);
      return (await res.json()) as Pair;
    };
    const me = (token: string) => t.request("/v1/me", bearer(token));
    const refresh = (token: string) => t.request("/v1/auth/refresh", json("POST", { refresh_token: token }));
    const changePassword = (token: string, current: string, next: string) =>
      t.request("/v1/me/password", json("POST", { current_password: current, new_password: next }, token));
    const erase = (token: string, password: string) => t.request("/v1/me", json("DELETE", { password }, token));
    const codeOf = async (res: Response, status = 401) => {
      expect(res.status).toBe(status);
      return (await errorOf(res)).code;
    };
    const upload = async (user: TestUser, projectId: string, path: string) => {
      const res = await t.request(`/v1/projects/${projectId}/files/${path}`, {
        method: "PUT",
        body: `bytes of ${path}`,
        headers: { authorization: `Bearer ${user.token}` },
      });
      expect(res.status).toBe(201);
      return join(t.mediaDir, projectId, path);
    };

    test("a password change answers a new pair; every session from before ends, the new password logs in", async () => {
      const user = await signUp(t);
      const other = await login(user.email);
      const res = await changePassword(user.token, PASSWORD, NEW_PASSWORD);
      expect(res.status).toBe(200);
      const pair = (await res.json()) as Pair;
      expect(pair).toMatchObject({ token_type: "Bearer", expires_in: 30 * 60, refresh_expires_in: 7 * 86_400 });
      expect(pair.refresh_token).toMatch(/^[A-Za-z0-9_-]{43}$/);

      expect((await me(pair.access_token)).status).toBe(200);
      expect(await codeOf(await me(other.access_token))).toBe("session_revoked");
      expect(await codeOf(await refresh(other.refresh_token))).toBe("session_revoked");
      // The caller's own old access token ends too: a copy of it must not outlive the change.
      expect(await codeOf(await me(user.token))).toBe("session_revoked");
      expect((await refresh(pair.refresh_token)).status).toBe(200);

      expect(
        await codeOf(await t.request("/v1/auth/login", json("POST", { email: user.email, password: PASSWORD }))),
      ).toBe("unauthorized");
      await login(user.email, NEW_PASSWORD);
    });

    test("a wrong current password is 401 password_incorrect and changes nothing", async () => {
      const user = await signUp(t);
      const other = await login(user.email);
      expect(await codeOf(await changePassword(user.token, "not the password at all", NEW_PASSWORD))).toBe(
        "password_incorrect",
      );
      expect((await me(user.token)).status).toBe(200);
      expect((await me(other.access_token)).status).toBe(200);
      await login(user.email);
    });

    test("the new password follows registration's rule; the body is strict; the token is required", async () => {
      const user = await signUp(t);
      const short = await changePassword(user.token, PASSWORD, "too short");
      expect(await codeOf(short, 422)).toBe("validation_failed");
      const extra = await t.request(
        "/v1/me/password",
        json("POST", { current_password: PASSWORD, new_password: NEW_PASSWORD, email: "x@example.com" }, user.token),
      );
      expect(extra.status).toBe(422);
      const anonymous = await t.request(
        "/v1/me/password",
        json("POST", { current_password: PASSWORD, new_password: NEW_PASSWORD }),
      );
      expect(anonymous.status).toBe(401);
      await login(user.email);
    });

    test("account deletion erases the account, its projects and files, and no one else's", async () => {
      const user = await signUp(t);
      const bystander = await signUp(t);
      const session = await login(user.email);
      const [p1, p2] = [await createProject(t, user), await createProject(t, user)];
      const mine = [await upload(user, p1.id, "a.txt"), await upload(user, p2.id, "docs/b.txt")];
      const theirProject = await createProject(t, bystander);
      const theirs = await upload(bystander, theirProject.id, "keep.txt");

      expect(await codeOf(await erase(user.token, "not the password at all"))).toBe("password_incorrect");
      expect((await t.request(`/v1/projects/${p1.id}`, bearer(user.token))).status).toBe(200);
      expect(mine.every(existsSync)).toBe(true);

      const gone = await erase(user.token, PASSWORD);
      expect(gone.status).toBe(204);
      expect(mine.some(existsSync)).toBe(false);
      expect(existsSync(join(t.mediaDir, p1.id))).toBe(false);
      expect(await codeOf(await me(user.token))).toBe("unauthorized");
      expect(await codeOf(await me(session.access_token))).toBe("unauthorized");
      expect(await codeOf(await refresh(session.refresh_token))).toBe("token_invalid");

      // The bystander's account, project and bytes are untouched.
      expect(existsSync(theirs)).toBe(true);
      const read = await t.request(`/v1/projects/${theirProject.id}/files/keep.txt`, bearer(bystander.token));
      expect(read.status).toBe(200);
      expect(await read.text()).toBe("bytes of keep.txt");

      // The email is free again, with nothing of the old account attached.
      const again = await t.request("/v1/auth/register", json("POST", { email: user.email, password: NEW_PASSWORD }));
      expect(again.status).toBe(201);
      const fresh = await login(user.email, NEW_PASSWORD);
      const projects = (await (await t.request("/v1/projects", bearer(fresh.access_token))).json()) as { items: [] };
      expect(projects.items).toEqual([]);
    });

    test("account deletion needs a live token and the password field", async () => {
      const user = await signUp(t);
      expect((await t.request("/v1/me", json("DELETE", { password: PASSWORD }))).status).toBe(401);
      expect((await t.request("/v1/me", json("DELETE", {}, user.token))).status).toBe(422);
      expect((await t.request("/v1/auth/logout-all", { method: "POST", ...bearer(user.token) })).status).toBe(204);
      expect(await codeOf(await erase(user.token, PASSWORD))).toBe("session_revoked");
      await login(user.email);
    });
  });

  describe(`auth rate limit on ${dialect}: refresh and the account routes`, () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await createTestApp(dialect, { RATE_LIMIT_PER_MINUTE: "1000", TRUST_PROXY: "true" });
    });
    afterAll(() => t.close());
    const from = (ip: string) => ({ "fly-client-ip": ip });

    test("refresh attempts count against the login budget, and so do password changes and deletions", async () => {
      const user = await signUp(t);
      const ip = "203.0.113.9";
      for (let i = 1; i <= 5; i++) {
        const res = await t.request("/v1/auth/refresh", json("POST", { refresh_token: "guess" }, undefined, from(ip)));
        expect(res.status).toBe(401);
      }
      const limited = await t.request(
        "/v1/auth/refresh",
        json("POST", { refresh_token: "guess" }, undefined, from(ip)),
      );
      expect(limited.status).toBe(429);
      expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
      const body = { current_password: PASSWORD, new_password: NEW_PASSWORD };
      expect((await t.request("/v1/me/password", json("POST", body, user.token, from(ip)))).status).toBe(429);
      expect((await t.request("/v1/me", json("DELETE", { password: PASSWORD }, user.token, from(ip)))).status).toBe(
        429,
      );
      // Another address still has its budget.
      const elsewhere = await t.request("/v1/me/password", json("POST", body, user.token, from("198.51.100.9")));
      expect(elsewhere.status).toBe(200);
    });
  });
}

describe("account routes in the OpenAPI document", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp("sqlite", TEST_ENV);
  });
  afterAll(() => t.close());

  test("each has a summary, an operationId, bearer security, its JSON body schema and its answers", async () => {
    const spec = await readJson(await t.request("/openapi.json"));
    const cases: [string, string, string, string[], string[]][] = [
      ["/v1/me/password", "post", "changePassword", ["current_password", "new_password"], ["200", "401", "422", "429"]],
      ["/v1/me", "delete", "deleteAccount", ["password"], ["204", "401", "422", "429"]],
    ];
    for (const [path, method, operationId, fields, statuses] of cases) {
      const op = spec.paths[path]?.[method];
      expect([path, method, op?.operationId]).toEqual([path, method, operationId]);
      expect(op.summary.length).toBeGreaterThan(10);
      expect(op.security).toEqual([{ bearerAuth: [] }]);
      const schema = op.requestBody?.content?.["application/json"]?.schema;
      expect([path, schema?.additionalProperties, [...(schema?.required ?? [])].sort()]).toEqual([
        path,
        false,
        [...fields].sort(),
      ]);
      for (const status of statuses) expect([path, status, status in op.responses]).toEqual([path, status, true]);
    }
    // The new password carries registration's rule into the document.
    const change = spec.paths["/v1/me/password"].post.requestBody.content["application/json"].schema;
    expect(change.properties.new_password).toMatchObject({ minLength: 12, maxLength: 1024 });
  });
});
