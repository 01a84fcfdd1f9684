/**
 * The small answers a frontend builds on (issue 22): a malformed cursor is 422 naming /cursor, not an empty
 * page; every query field is named in its validation error; a wrong method on a path that exists is 405 with
 * Allow, not 404.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createTestApp, type TestApp } from "../../support/app.ts";
import { bearer, createProject, DIALECTS, errorOf, signUp, TEST_ENV, type TestUser } from "../api-helpers.ts";

const fieldsOf = async (res: Response) => ((await errorOf(res)).details as { field: string }[]).map((d) => d.field);

describe.each(DIALECTS)("small answers on %s", (dialect) => {
  let t: TestApp;
  let alice: TestUser;
  let projectId: string;
  const files = () => `/v1/projects/${projectId}/files`;

  beforeAll(async () => {
    t = await createTestApp(dialect, TEST_ENV);
    alice = await signUp(t);
    projectId = (await createProject(t, alice)).id;
    for (const name of ["a.txt", "b.txt", "c.txt"])
      await t.request(`${files()}/${name}`, { method: "PUT", body: name, ...bearer(alice.token) });
  });
  afterAll(() => t.close());

  test("a cursor that no page could have given is 422 naming /cursor; a real one pages on", async () => {
    for (const cursor of ["zzz", "not-an-id", "01234567-89ab-cdef-0123-456789abcdeZ"]) {
      const res = await t.request(`/v1/projects?cursor=${cursor}`, bearer(alice.token));
      expect([cursor, res.status, await fieldsOf(res)]).toEqual([cursor, 422, ["/cursor"]]);
    }
    for (const cursor of ["..%2Fx", "%2Fetc", "a%2F%2Fb"]) {
      const res = await t.request(`${files()}?cursor=${cursor}`, bearer(alice.token));
      expect([cursor, res.status, (await errorOf(res)).code]).toEqual([cursor, 422, "validation_failed"]);
      expect(await fieldsOf(await t.request(`${files()}?cursor=${cursor}`, bearer(alice.token)))).toEqual(["/cursor"]);
    }
    const first = (await (await t.request(`${files()}?limit=1`, bearer(alice.token))).json()) as {
      next_cursor: string;
    };
    expect(first.next_cursor).toBe("a.txt");
    const next = await t.request(`${files()}?limit=1&cursor=${first.next_cursor}`, bearer(alice.token));
    expect(((await next.json()) as { items: { path: string }[] }).items.map((f) => f.path)).toEqual(["b.txt"]);

    const projects = (await (await t.request("/v1/projects?limit=1", bearer(alice.token))).json()) as {
      items: { id: string }[];
    };
    const byId = await t.request(`/v1/projects?cursor=${projects.items[0]?.id}`, bearer(alice.token));
    expect(byId.status).toBe(200);
  });

  test("every query field is named in its validation error, bounds included", async () => {
    for (const base of ["/v1/projects", files()]) {
      for (const [query, field] of [
        ["limit=1000", "/limit"],
        ["limit=0", "/limit"],
        ["limit=abc", "/limit"],
        ["extra=1", "/extra"],
        ["cursor=%00", "/cursor"],
      ] as const) {
        const res = await t.request(`${base}?${query}`, bearer(alice.token));
        expect([base, query, res.status, await fieldsOf(res)]).toEqual([base, query, 422, [field]]);
      }
    }
  });

  test("a wrong method on a path that exists is 405 with Allow; an unknown path stays 404", async () => {
    const cases: [string, string, string][] = [
      ["POST", `${files()}/a.txt`, "GET, HEAD, PUT, DELETE, OPTIONS"],
      ["PATCH", files(), "GET, HEAD, OPTIONS"],
      ["PUT", "/v1/projects", "GET, HEAD, POST, OPTIONS"],
      ["POST", `/v1/projects/${projectId}`, "GET, HEAD, PATCH, DELETE, OPTIONS"],
      ["GET", "/v1/auth/login", "POST, OPTIONS"],
    ];
    for (const [method, path, allow] of cases) {
      const res = await t.request(path, { method, ...bearer(alice.token) });
      expect([method, path, res.status, res.headers.get("allow")]).toEqual([method, path, 405, allow]);
      const error = await errorOf(res);
      expect(error.code).toBe("method_not_allowed");
      expect(error.details).toEqual({ allow: allow.split(", ") });
    }
    const unknown = await t.request("/v1/nothing-here", { method: "POST", ...bearer(alice.token) });
    expect([unknown.status, unknown.headers.get("allow"), (await errorOf(unknown)).code]).toEqual([
      404,
      null,
      "not_found",
    ]);
  });
});
