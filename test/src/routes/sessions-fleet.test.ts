/**
 * Sessions and accounts across machines (issue 22): two real server processes on one PostgreSQL, each with its
 * own media directory (volume), the fleet test's set-up (test/support/fleet.ts). A refresh token works on the
 * other machine, an ended session is refused on the other machine at once, and deleting an account removes its
 * bytes from both volumes: this machine's at once, the other's by its deletion drain (src/media/deletions.ts).
 * @module
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { eventually, type Instance, migratedScratchDatabase, startInstance } from "../../support/fleet.ts";
import { postgresAvailable, type ScratchDatabase } from "../../support/postgres.ts";
import { killLeftoverServers } from "../../support/server-process.ts";

const pg = await postgresAvailable();
const PASSWORD = "correct horse battery staple";
const NEW_PASSWORD = "another horse battery staple";

interface Pair {
  access_token: string;
  refresh_token: string;
}

describe.skipIf(!pg)("sessions on two machines, one PostgreSQL", () => {
  let scratch: ScratchDatabase;
  let root: string;
  let a: Instance;
  let b: Instance;

  const call = (on: Instance, path: string, init: { method?: string; token?: string; body?: unknown } = {}) =>
    fetch(`${on.url}${path}`, {
      method: init.method ?? (init.body === undefined ? "GET" : "POST"),
      headers: {
        ...(init.token ? { authorization: `Bearer ${init.token}` } : {}),
        ...(init.body === undefined ? {} : { "content-type": "application/json" }),
      },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    });
  const codeOf = async (res: Response) => {
    expect(res.status).toBe(401);
    return ((await res.json()) as { error: { code: string } }).error.code;
  };
  const register = async (on: Instance, email: string, password = PASSWORD) =>
    expect((await call(on, "/v1/auth/register", { body: { email, password } })).status).toBe(201);
  const login = async (on: Instance, email: string, password = PASSWORD) => {
    const res = await call(on, "/v1/auth/login", { body: { email, password } });
    expect(res.status).toBe(200);
    return (await res.json()) as Pair;
  };
  const account = async () => {
    const email = `fleet-${crypto.randomUUID().slice(0, 8)}@example.com`;
    await register(a, email);
    return email;
  };

  beforeAll(async () => {
    scratch = await migratedScratchDatabase("sessions-fleet");
    root = mkdtempSync(join(tmpdir(), "flightdeck-sessions-fleet-"));
    // Every request comes from 127.0.0.1 here, so the per-IP auth budget is raised out of the way.
    const env = { AUTH_RATE_LIMIT_PER_MINUTE: "10000" };
    [a, b] = await Promise.all([
      startInstance({ machineId: "m-a", mediaDir: join(root, "vol-a"), databaseUrl: scratch.url, env }),
      startInstance({ machineId: "m-b", mediaDir: join(root, "vol-b"), databaseUrl: scratch.url, env }),
    ]);
  }, 60_000);

  afterAll(async () => {
    killLeftoverServers();
    await Promise.all([a, b].map((i) => i?.stop().catch(() => {})));
    await scratch?.drop();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  test("login on A, refresh on B: the new pair works on both machines, the old token is reuse on A", async () => {
    const email = await account();
    const first = await login(a, email);
    const res = await call(b, "/v1/auth/refresh", { body: { refresh_token: first.refresh_token } });
    expect(res.status).toBe(200);
    const next = (await res.json()) as Pair;
    expect((await call(a, "/v1/me", { token: next.access_token })).status).toBe(200);
    expect((await call(b, "/v1/me", { token: next.access_token })).status).toBe(200);
    expect(await codeOf(await call(a, "/v1/auth/refresh", { body: { refresh_token: first.refresh_token } }))).toBe(
      "refresh_token_reused",
    );
    // The reuse seen on A ended the session B had just continued.
    expect(await codeOf(await call(b, "/v1/me", { token: next.access_token }))).toBe("session_revoked");
  });

  test("logout on A: that session's access token is refused on B right away; another session lives on", async () => {
    const email = await account();
    const ended = await login(a, email);
    const kept = await login(b, email);
    expect((await call(b, "/v1/me", { token: ended.access_token })).status).toBe(200);
    expect((await call(a, "/v1/auth/logout", { body: { refresh_token: ended.refresh_token } })).status).toBe(204);
    expect(await codeOf(await call(b, "/v1/me", { token: ended.access_token }))).toBe("session_revoked");
    expect((await call(b, "/v1/me", { token: kept.access_token })).status).toBe(200);

    // logout-all on B reaches A the same way.
    expect((await call(b, "/v1/auth/logout-all", { method: "POST", token: kept.access_token })).status).toBe(204);
    expect(await codeOf(await call(a, "/v1/me", { token: kept.access_token }))).toBe("session_revoked");
  });

  test("a password change on A ends the sessions B serves; the new pair works on B", async () => {
    const email = await account();
    const caller = await login(a, email);
    const elsewhere = await login(b, email);
    const res = await call(a, "/v1/me/password", {
      token: caller.access_token,
      body: { current_password: PASSWORD, new_password: NEW_PASSWORD },
    });
    expect(res.status).toBe(200);
    const pair = (await res.json()) as Pair;
    expect(await codeOf(await call(b, "/v1/me", { token: elsewhere.access_token }))).toBe("session_revoked");
    expect(await codeOf(await call(b, "/v1/me", { token: caller.access_token }))).toBe("session_revoked");
    expect((await call(b, "/v1/me", { token: pair.access_token })).status).toBe(200);
    await login(b, email, NEW_PASSWORD);
  });

  test("account deletion on A removes its bytes from both volumes, keeps another account's, frees the email", async () => {
    const email = await account();
    const { access_token: token } = await login(a, email);
    const bystanderEmail = await account();
    const bystander = (await login(b, bystanderEmail)).access_token;

    const project = async (on: Instance, owner: string) => {
      const res = await call(on, "/v1/projects", { token: owner, body: { name: `p-${crypto.randomUUID()}` } });
      expect(res.status).toBe(201);
      return ((await res.json()) as { id: string }).id;
    };
    const put = async (on: Instance, owner: string, projectId: string, path: string) => {
      const res = await fetch(`${on.url}/v1/projects/${projectId}/files/${path}`, {
        method: "PUT",
        headers: { authorization: `Bearer ${owner}` },
        body: `bytes of ${path} on ${on.machineId}`,
      });
      expect(res.status).toBe(201);
      expect(((await res.json()) as { machine_id: string }).machine_id).toBe(on.machineId);
      const onDisk = join(on.mediaDir, projectId, path);
      expect(existsSync(onDisk)).toBe(true);
      return onDisk;
    };
    // One project with a file on each volume, and a second project whose only file is on B's volume.
    const shared = await project(a, token);
    const onlyB = await project(b, token);
    const mine = [
      await put(a, token, shared, "on-a.txt"),
      await put(b, token, shared, "on-b.txt"),
      await put(b, token, onlyB, "docs/b.txt"),
    ];
    const theirProject = await project(b, bystander);
    const theirs = [
      await put(a, bystander, theirProject, "keep-a.txt"),
      await put(b, bystander, theirProject, "keep-b.txt"),
    ];

    const res = await call(a, "/v1/me", { method: "DELETE", token, body: { password: PASSWORD } });
    expect(res.status).toBe(204);
    // A's volume at once, in the request; B's by its drain, within a few heartbeats.
    expect(existsSync(mine[0] as string)).toBe(false);
    expect(await eventually(() => mine.every((path) => !existsSync(path)), 10_000)).toBe(true);
    expect(existsSync(join(b.mediaDir, onlyB))).toBe(false);
    expect(existsSync(join(b.mediaDir, shared))).toBe(false);
    expect(await codeOf(await call(b, "/v1/me", { token }))).toBe("unauthorized");

    // The other account's bytes stay on both volumes and still serve.
    expect(theirs.every(existsSync)).toBe(true);
    expect(readFileSync(theirs[0] as string, "utf8")).toBe("bytes of keep-a.txt on m-a");
    const read = await fetch(`${b.url}/v1/projects/${theirProject}/files/keep-b.txt`, {
      headers: { authorization: `Bearer ${bystander}` },
    });
    expect(read.status).toBe(200);

    await register(b, email, NEW_PASSWORD);
    const again = await login(a, email, NEW_PASSWORD);
    const projects = await call(a, "/v1/projects", { token: again.access_token });
    expect(((await projects.json()) as { items: unknown[] }).items).toEqual([]);
  }, 30_000);
});
