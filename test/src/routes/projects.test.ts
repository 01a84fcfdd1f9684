import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createTestApp, type TestApp } from "../../support/app.ts";
import { bearer, createProject, DIALECTS, errorOf, json, signUp, TEST_ENV, type TestUser } from "../api-helpers.ts";

interface ProjectJson {
  id: string;
  name: string;
  description: string | null;
  created_at: string;
  updated_at: string;
}

describe.each(DIALECTS)("projects on %s", (dialect) => {
  let t: TestApp;
  let alice: TestUser;
  let bob: TestUser;
  beforeAll(async () => {
    t = await createTestApp(dialect, TEST_ENV);
    alice = await signUp(t);
    bob = await signUp(t);
  });
  afterAll(() => t.close());

  test("create, get, patch and delete a project", async () => {
    const created = await t.request("/v1/projects", json("POST", { name: "Apollo", description: "moon" }, alice.token));
    expect(created.status).toBe(201);
    const project = (await created.json()) as ProjectJson;
    expect(project).toMatchObject({ name: "Apollo", description: "moon" });
    expect(created.headers.get("location")).toBe(`/v1/projects/${project.id}`);

    const got = await t.request(`/v1/projects/${project.id}`, bearer(alice.token));
    expect(await got.json()).toEqual(project);

    const patched = await t.request(`/v1/projects/${project.id}`, json("PATCH", { description: null }, alice.token));
    expect(patched.status).toBe(200);
    expect(((await patched.json()) as ProjectJson).description).toBeNull();
    const renamed = await t.request(`/v1/projects/${project.id}`, json("PATCH", { name: "Artemis" }, alice.token));
    expect(((await renamed.json()) as ProjectJson).name).toBe("Artemis");

    expect((await t.request(`/v1/projects/${project.id}`, { ...bearer(alice.token), method: "DELETE" })).status).toBe(
      204,
    );
    expect((await t.request(`/v1/projects/${project.id}`, bearer(alice.token))).status).toBe(404);
    expect(await t.db.repo.projects.get(alice.id, project.id)).toBeUndefined();
  });

  test("every project route needs a valid token", async () => {
    const project = await createProject(t, alice);
    for (const [path, method] of [
      ["/v1/projects", "GET"],
      ["/v1/projects", "POST"],
      [`/v1/projects/${project.id}`, "GET"],
      [`/v1/projects/${project.id}`, "PATCH"],
      [`/v1/projects/${project.id}`, "DELETE"],
    ] as const) {
      const res = await t.request(
        path,
        method === "POST" || method === "PATCH" ? json(method, { name: "zzz" }) : { method },
      );
      expect([method, path, res.status]).toEqual([method, path, 401]);
    }
    expect(await t.db.repo.projects.get(alice.id, project.id)).toMatchObject({ name: project.name });
  });

  test("a deleted account gets 401 on the one-query project routes, from the next request on, files included", async () => {
    const carol = await signUp(t);
    const project = await createProject(t, carol);
    expect((await t.request(`/v1/projects/${project.id}`, bearer(carol.token))).status).toBe(200);
    await t.db.repo.users.delete(carol.id);
    for (const path of [
      `/v1/projects/${project.id}`,
      "/v1/projects/not-an-id",
      `/v1/projects/${project.id}/files/a.txt`,
      `/v1/projects/${project.id}/files`,
    ]) {
      const res = await t.request(path, bearer(carol.token));
      expect(res.status).toBe(401);
      expect((await errorOf(res)).message).toContain("no longer exists");
    }
    for (const method of ["PATCH", "DELETE"]) {
      const res = await t.request(
        `/v1/projects/${project.id}`,
        method === "PATCH" ? json("PATCH", { name: "x" }, carol.token) : { ...bearer(carol.token), method },
      );
      expect(res.status).toBe(401);
    }
  });

  test("another user's project is 404, exactly like a missing one, and stays untouched", async () => {
    const project = await createProject(t, alice, "private");
    const missing = await t.request(`/v1/projects/${crypto.randomUUID()}`, bearer(bob.token));
    const foreign = await t.request(`/v1/projects/${project.id}`, bearer(bob.token));
    expect(foreign.status).toBe(404);
    const [a, b] = [await errorOf(missing), await errorOf(foreign)];
    expect({ ...a, request_id: "" }).toEqual({ ...b, request_id: "" });
    expect((await t.request(`/v1/projects/${project.id}`, json("PATCH", { name: "stolen" }, bob.token))).status).toBe(
      404,
    );
    expect((await t.request(`/v1/projects/${project.id}`, { ...bearer(bob.token), method: "DELETE" })).status).toBe(
      404,
    );
    const list = (await (await t.request("/v1/projects?limit=100", bearer(bob.token))).json()) as {
      items: ProjectJson[];
    };
    expect(list.items.map((p) => p.id)).not.toContain(project.id);
    expect(await t.db.repo.projects.get(alice.id, project.id)).toMatchObject({ name: "private" });
  });

  test("names are unique per owner (409 on create and rename) but may repeat across owners", async () => {
    await createProject(t, alice, "shared-name");
    const dup = await t.request("/v1/projects", json("POST", { name: "shared-name" }, alice.token));
    expect(dup.status).toBe(409);
    expect((await errorOf(dup)).code).toBe("conflict");
    expect((await t.request("/v1/projects", json("POST", { name: "shared-name" }, bob.token))).status).toBe(201);
    const other = await createProject(t, alice, "other-name");
    const rename = await t.request(`/v1/projects/${other.id}`, json("PATCH", { name: "shared-name" }, alice.token));
    expect(rename.status).toBe(409);
    expect((await t.db.repo.projects.get(alice.id, other.id))?.name).toBe("other-name");
  });

  test("cursor pagination walks every project once, in a stable order", async () => {
    const carol = await signUp(t);
    const names = Array.from({ length: 7 }, (_, i) => `page-${i}`);
    for (const name of names) await createProject(t, carol, name);
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = cursor ? `?limit=3&cursor=${encodeURIComponent(cursor)}` : "?limit=3";
      const res = await t.request(`/v1/projects${query}`, bearer(carol.token));
      expect(res.status).toBe(200);
      const page = (await res.json()) as { items: ProjectJson[]; next_cursor: string | null };
      expect(page.items.length).toBeLessThanOrEqual(3);
      seen.push(...page.items.map((p) => p.name));
      cursor = page.next_cursor;
      pages++;
    } while (cursor && pages < 10);
    expect(seen).toEqual(names);
    expect(pages).toBe(3);
  });

  test("limits outside 1..100 are 422", async () => {
    for (const limit of ["0", "101", "-1", "abc", "1e400", "2.5"]) {
      const res = await t.request(`/v1/projects?limit=${limit}`, bearer(alice.token));
      expect([limit, res.status]).toEqual([limit, 422]);
    }
  });
});
