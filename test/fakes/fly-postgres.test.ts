// The fake's Managed Postgres and deploy-token endpoints, through the real client: they keep state the way
// Fly's do (provisioning states, users and databases that persist, backups that run then complete, restores into
// a new cluster, deletes that go through deleting), refuse what Fly refuses, and every request body the client
// sends is valid against the spec (the fake validates it).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createFlyClient, type FlyClient } from "../../lib/fly/index.ts";
import { flyFailure } from "../support/fly-errors.ts";
import { specValidator } from "./fly/validate.ts";
import { startFakeFly, type FakeFly } from "./fly-machines.ts";

let fly: FakeFly;
let client: FlyClient;
const fast = { retry: { baseDelayMs: 5, maxDelayMs: 20, rateLimitDelayMs: 20 }, deadlineMs: 5_000 };

beforeAll(() => {
  fly = startFakeFly({ postgresPhaseMs: 40 });
  client = createFlyClient({ baseUrl: fly.url, token: fly.token, ...fast });
});
afterAll(() => fly.close());

async function until<T>(read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  for (let i = 0; i < 200; i++) {
    const value = await read();
    if (done(value)) return value;
    await Bun.sleep(10);
  }
  throw new Error("condition never held");
}

describe("clusters", () => {
  test("creating -> initializing -> ready; endpoints, fly-user and fly-db only once ready", async () => {
    const created = await client.createPostgresCluster({
      org_slug: "personal",
      name: "states-db",
      region: "ewr",
      plan: "basic",
      pool_mode: "session",
    });
    expect(created).toMatchObject({ name: "states-db", region: "ewr", plan: "basic", status: "creating" });
    expect(created.endpoints).toBeUndefined();
    expect((await flyFailure(client.listPostgresUsers(created.id!))).status).toBe(503);

    const seen = new Set<string>();
    const ready = await until(
      async () => {
        const c = await client.getPostgresCluster(created.id!);
        seen.add(c.status!);
        return c;
      },
      (c) => c.status === "ready",
    );
    expect([...seen]).toContain("initializing");
    expect(ready.endpoints?.primary?.pooler?.host).toBe(`pgbouncer.${created.id}.flympg.net`);
    expect((await client.listPostgresUsers(created.id!)).map((u) => u.username)).toEqual(["fly-user"]);
    expect((await client.listPostgresDatabases(created.id!)).map((d) => d.name)).toEqual(["fly-db"]);
  });

  test("a name is unique in its org; an unknown plan and a bad body are refused", async () => {
    expect(
      await flyFailure(
        client.createPostgresCluster({ org_slug: "personal", name: "states-db", region: "ewr", plan: "basic" }),
      ),
    ).toMatchObject({ status: 422, apiStatus: "name_taken" });
    // The spec's enum refuses it before the fake's own check.
    expect(
      (
        await flyFailure(
          client.createPostgresCluster({ org_slug: "personal", name: "x", region: "ewr", plan: "huge" as "basic" }),
        )
      ).status,
    ).toBe(400);
    expect(
      (
        await flyFailure(
          client.createPostgresCluster({
            org_slug: "personal",
            name: "x",
            region: "ewr",
            plan: "basic",
            disk_size_gb: 5,
          }),
        )
      ).status,
    ).toBe(400);
  });

  test("users and databases persist; duplicates and bad names are refused; credentials are per user", async () => {
    const [cluster] = (await client.listPostgresClusters("personal")).filter((c) => c.name === "states-db");
    const id = cluster!.id!;
    await client.createPostgresDatabase(id, "app_db");
    await client.createPostgresUser(id, "app_user", "schema_admin");
    expect((await client.listPostgresDatabases(id)).map((d) => d.name).sort()).toEqual(["app_db", "fly-db"]);
    expect(await client.listPostgresUsers(id)).toContainEqual({ username: "app_user", role: "schema_admin" });
    expect((await flyFailure(client.createPostgresUser(id, "app_user", "writer"))).status).toBe(409);
    expect((await flyFailure(client.createPostgresDatabase(id, "app_db"))).status).toBe(422);
    expect((await flyFailure(client.createPostgresUser(id, "Bad_User", "writer"))).status).toBe(422);
    const a = await client.getPostgresUserCredentials(id, "app_user");
    const b = await client.getPostgresUserCredentials(id, "fly-user");
    expect(a.username).toBe("app_user");
    expect(a.password.length).toBeGreaterThan(10);
    expect(a.password).not.toBe(b.password);
    expect(await client.getPostgresUserCredentials(id, "app_user")).toEqual(a);
    expect((await flyFailure(client.getPostgresUserCredentials(id, "nobody"))).status).toBe(404);
  });

  test("attachments: 201 then 200 for the same app, 404 for an unknown app, listed on the cluster, removable once", async () => {
    fly.seedApp("attach-app");
    const id = (await client.listPostgresClusters("personal")).find((c) => c.name === "states-db")!.id!;
    await client.createPostgresAttachment(id, "attach-app");
    await client.createPostgresAttachment(id, "attach-app");
    const statuses = fly.calls
      .filter((c) => c.method === "POST" && c.path.endsWith("/attachments"))
      .map((c) => c.status);
    expect(statuses.slice(-2)).toEqual([201, 200]);
    expect((await flyFailure(client.createPostgresAttachment(id, "no-such-app"))).status).toBe(404);
    expect((await client.getPostgresCluster(id)).attached_apps).toEqual([{ name: "attach-app" }]);
    expect((await client.listPostgresClusters("personal")).find((c) => c.id === id)?.attached_apps).toEqual([
      { name: "attach-app" },
    ]);
    expect(await client.deletePostgresAttachment(id, "attach-app")).toBe(true);
    expect(await client.deletePostgresAttachment(id, "attach-app")).toBe(false);
  });

  test("backups run then complete; one at a time; a restore makes a new cluster with the backup's contents", async () => {
    const id = (await client.listPostgresClusters("personal")).find((c) => c.name === "states-db")!.id!;
    await client.createPostgresBackup(id, "full");
    expect((await flyFailure(client.createPostgresBackup(id, "full"))).status).toBe(409);
    const [running] = await client.listPostgresBackups(id);
    expect(running).toMatchObject({ type: "full", status: "running" });
    expect((await flyFailure(client.restorePostgresCluster(id, { backup_id: running!.id! }))).status).toBe(422);
    const [done] = await until(
      () => client.listPostgresBackups(id),
      (list) => list[0]?.status === "completed",
    );
    expect(done!.finished_at).toBeString();

    // Changed after the backup: the restore must not have it.
    await client.createPostgresDatabase(id, "after_backup");
    expect((await flyFailure(client.restorePostgresCluster(id, { backup_id: "nope" }))).status).toBe(404);
    expect(
      (await flyFailure(client.restorePostgresCluster(id, { backup_id: done!.id!, pitr_time: "2026-01-01T00:00:00Z" })))
        .status,
    ).toBe(422);
    const restored = await client.restorePostgresCluster(id, { backup_id: done!.id! });
    expect(restored.id).not.toBe(id);
    expect(restored.status).toBe("creating");
    expect(restored.name).toStartWith("states-db-restore-");
    await until(
      () => client.getPostgresCluster(restored.id!),
      (c) => c.status === "ready",
    );
    expect((await client.listPostgresDatabases(restored.id!)).map((d) => d.name).sort()).toEqual(["app_db", "fly-db"]);
    expect((await client.getPostgresUserCredentials(restored.id!, "app_user")).password).toBe(
      (await client.getPostgresUserCredentials(id, "app_user")).password,
    );
    // The source is untouched.
    expect((await client.getPostgresCluster(id)).status).toBe("ready");
    expect((await client.listPostgresDatabases(id)).map((d) => d.name)).toContain("after_backup");
  });

  test("delete: 202, deleting, then gone (404, listed only with include_deleted); a second delete is 410", async () => {
    const created = await client.createPostgresCluster({
      org_slug: "personal",
      name: "doomed-db",
      region: "ewr",
      plan: "basic",
    });
    await until(
      () => client.getPostgresCluster(created.id!),
      (c) => c.status === "ready",
    );
    expect(await client.deletePostgresCluster(created.id!)).toBe(true);
    expect((await client.getPostgresCluster(created.id!)).status).toBe("deleting");
    expect(await client.deletePostgresCluster(created.id!)).toBe(false);
    await until(
      () => client.listPostgresClusters("personal"),
      (list) => !list.some((c) => c.id === created.id),
    );
    expect((await flyFailure(client.getPostgresCluster(created.id!))).status).toBe(404);
    expect(
      (await client.listPostgresClusters("personal", { includeDeleted: true })).find((c) => c.id === created.id),
    ).toMatchObject({ status: "deleted", deleted_at: expect.any(String) });
  });

  test("failProvisioning: the cluster ends failed", async () => {
    fly.postgres.failProvisioning = 1;
    const created = await client.createPostgresCluster({
      org_slug: "personal",
      name: "broken-db",
      region: "ewr",
      plan: "basic",
    });
    expect(
      (
        await until(
          () => client.getPostgresCluster(created.id!),
          (c) => c.status !== "creating" && c.status !== "initializing",
        )
      ).status,
    ).toBe("failed");
  });
});

test('personalOrgSlug mode: "personal" is refused, the real slug works', async () => {
  const strict = startFakeFly({ personalOrgSlug: "jane-doe-561" });
  try {
    const c = createFlyClient({ baseUrl: strict.url, token: strict.token, ...fast });
    expect((await flyFailure(c.listPostgresClusters("personal"))).message).toContain("organization");
    expect(
      (await flyFailure(c.createPostgresCluster({ org_slug: "personal", name: "x", region: "ewr", plan: "basic" })))
        .status,
    ).toBe(404);
    expect(
      (await c.createPostgresCluster({ org_slug: "jane-doe-561", name: "x", region: "ewr", plan: "basic" })).status,
    ).toBe("creating");
  } finally {
    await strict.close();
  }
});

describe("deploy tokens", () => {
  test("a token for one app works on that app's paths only, and not after it expires", async () => {
    fly.seedApp("token-app");
    fly.seedApp("other-app");
    const { token } = await client.createDeployToken("token-app", { expiry: "720h" });
    expect(token).toStartWith("FlyV1 fm2_");
    const scoped = createFlyClient({ baseUrl: fly.url, token, ...fast, retries: 0 });
    expect((await scoped.getApp("token-app")).name).toBe("token-app");
    await scoped.setSecrets("token-app", { A: "1" });
    expect((await flyFailure(scoped.getApp("other-app"))).status).toBe(401);
    expect((await flyFailure(scoped.listPostgresClusters("personal"))).status).toBe(401);
    expect((await flyFailure(scoped.listApps("personal"))).status).toBe(401);

    const short = await client.createDeployToken("token-app", { expiry: "1ms" });
    await Bun.sleep(5);
    expect(
      (
        await flyFailure(
          createFlyClient({ baseUrl: fly.url, token: short.token, ...fast, retries: 0 }).getApp("token-app"),
        )
      ).status,
    ).toBe(401);
  });

  test("an unreadable expiry is a 400; an unknown app a 404", async () => {
    expect((await flyFailure(client.createDeployToken("token-app", { expiry: "a month" }))).status).toBe(400);
    expect((await flyFailure(client.createDeployToken("nope-app", { expiry: "1h" }))).status).toBe(404);
  });
});

test("every answer has the shape the spec gives it (unknown fields refused)", async () => {
  const spec = JSON.parse(
    await Bun.file(new URL("../../lib/fly/spec/fly-machines-openapi.json", import.meta.url)).text(),
  ) as {
    paths: Record<
      string,
      Record<
        string,
        { responses: Record<string, { content?: { "application/json"?: { schema?: { $ref?: string } } } }> }
      >
    >;
  };
  const validate = specValidator(true);
  const templateOf = (path: string) =>
    Object.keys(spec.paths).find(
      (t) => new RegExp(`^${t.replace(/\{[^}]+\}/g, "[^/]+")}$`).test(path) && !/\{[^}]+\}\/\{/.test(t),
    );
  async function answer(method: string, path: string, body?: unknown): Promise<any> {
    const response = await fetch(`${fly.url}${path}`, {
      method,
      headers: { authorization: `FlyV1 ${fly.token}`, "content-type": "application/json" },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    const text = await response.text();
    const template = templateOf(path.split("?")[0]!)!;
    const ref =
      spec.paths[template]?.[method.toLowerCase()]?.responses[String(response.status)]?.content?.["application/json"]
        ?.schema?.$ref;
    expect({
      path,
      status: response.status,
      documented: spec.paths[template]?.[method.toLowerCase()]?.responses[String(response.status)] !== undefined,
    }).toEqual({ path, status: response.status, documented: true });
    if (!ref) return undefined;
    const parsed = JSON.parse(text);
    expect({ path, problem: validate(ref.split("/").pop()!, parsed) }).toEqual({ path, problem: undefined });
    return parsed;
  }
  fly.seedApp("shape-app");
  const created = (
    await answer("POST", "/v1/postgres", { org_slug: "personal", name: "shape-db", region: "ewr", plan: "basic" })
  ).data;
  await answer("GET", `/v1/postgres/${created.id}`);
  await answer("GET", `/v1/postgres/${created.id}/users`); // 503 while creating
  await until(
    () => client.getPostgresCluster(created.id),
    (c) => c.status === "ready",
  );
  await answer("GET", `/v1/postgres/${created.id}`);
  await answer("GET", "/v1/postgres?org_slug=personal&include_deleted=true");
  await answer("POST", `/v1/postgres/${created.id}/users`, { username: "shape", role: "writer" });
  await answer("GET", `/v1/postgres/${created.id}/users`);
  await answer("GET", `/v1/postgres/${created.id}/users/shape/credentials`);
  await answer("POST", `/v1/postgres/${created.id}/databases`, { name: "shape" });
  await answer("GET", `/v1/postgres/${created.id}/databases`);
  await answer("POST", `/v1/postgres/${created.id}/attachments`, { app_name: "shape-app" });
  await answer("POST", `/v1/postgres/${created.id}/attachments`, { app_name: "shape-app" });
  await answer("DELETE", `/v1/postgres/${created.id}/attachments/shape-app`);
  await answer("POST", `/v1/postgres/${created.id}/backups`, { type: "full" });
  await answer("POST", `/v1/postgres/${created.id}/backups`, { type: "full" }); // 409: one is running
  const [backup] = await until(
    () => client.listPostgresBackups(created.id),
    (list) => list[0]?.status === "completed",
  );
  await answer("GET", `/v1/postgres/${created.id}/backups`);
  await answer("POST", `/v1/postgres/${created.id}/restore`, { backup_id: backup!.id });
  await answer("POST", "/v1/apps/shape-app/deploy_token", { expiry: "1h" });
  await answer("DELETE", `/v1/postgres/${created.id}`);
  await answer("DELETE", `/v1/postgres/${created.id}`); // 410
});
