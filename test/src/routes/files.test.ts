import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { createTestApp, type TestApp } from "../../support/app.ts";
import { bearer, createProject, DIALECTS, errorOf, signUp, TEST_ENV, type TestUser } from "../api-helpers.ts";

const sha256 = (data: Uint8Array | string) => new Bun.CryptoHasher("sha256").update(data).digest("hex");
const bytes = (n: number, seed = 7) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) % 251);

/** A body that arrives in chunks, optionally failing part-way like a dropped connection. */
function chunked(chunks: Uint8Array[], failAfter?: number): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream({
    pull(controller) {
      if (failAfter !== undefined && i === failAfter) return controller.error(new Error("client went away"));
      const chunk = chunks[i++];
      if (chunk) controller.enqueue(chunk);
      else controller.close();
    },
  });
}

describe.each(DIALECTS)("files on %s", (dialect) => {
  let t: TestApp;
  let alice: TestUser;
  let bob: TestUser;
  let projectId: string;
  const MAX = 256 * 1024;
  const url = (path: string, id = projectId) => `/v1/projects/${id}/files/${path}`;
  const put = (path: string, body: RequestInit["body"], headers: Record<string, string> = {}, user = alice) =>
    t.request(url(path), {
      method: "PUT",
      body,
      headers: { authorization: `Bearer ${user.token}`, ...headers },
      duplex: "half",
    } as RequestInit);
  const get = (path: string, headers: Record<string, string> = {}, method = "GET") =>
    t.request(url(path), { method, headers: { authorization: `Bearer ${alice.token}`, ...headers } });
  const tempFiles = () => (existsSync(join(t.mediaDir, ".tmp")) ? readdirSync(join(t.mediaDir, ".tmp")) : []);

  beforeAll(async () => {
    t = await createTestApp(dialect, { ...TEST_ENV, MAX_UPLOAD_BYTES: String(MAX) });
    alice = await signUp(t);
    bob = await signUp(t);
    projectId = (await createProject(t, alice)).id;
  });
  afterAll(() => t.close());

  test("PUT streams the body to MEDIA_DIR/<project>/<path> and records size, sha256, type and machine", async () => {
    const content = bytes(100_000);
    const res = await put("images/cat.png", chunked([content.slice(0, 40_000), content.slice(40_000)]), {
      "content-type": "image/png",
    });
    expect(res.status).toBe(201);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({
      path: "images/cat.png",
      size: 100_000,
      sha256: sha256(content),
      content_type: "image/png",
      machine_id: "local",
    });
    expect(body.volume_id).toMatch(/^vol-/);
    expect(res.headers.get("etag")).toBe(`"${sha256(content)}"`);
    const onDisk = Bun.file(join(t.mediaDir, projectId, "images/cat.png"));
    expect(sha256(new Uint8Array(await onDisk.arrayBuffer()))).toBe(sha256(content));
    expect(await t.db.repo.files.get(projectId, "images/cat.png")).toMatchObject({
      size: 100_000,
      sha256: sha256(content),
    });
    expect(tempFiles()).toEqual([]);

    const again = await put("images/cat.png", "replaced", { "content-type": "text/plain; charset=utf-8" });
    expect(again.status).toBe(200);
    expect(await onDisk.text()).toBe("replaced");
  });

  test("GET and HEAD return ETag, Content-Length and Content-Type; If-None-Match gives 304", async () => {
    await put("docs/readme.txt", "hello, volume", { "content-type": "text/plain" });
    const res = await get("docs/readme.txt");
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("hello, volume");
    const etag = `"${sha256("hello, volume")}"`;
    expect(res.headers.get("etag")).toBe(etag);
    expect(res.headers.get("content-length")).toBe("13");
    expect(res.headers.get("content-type")).toBe("text/plain");
    expect(res.headers.get("content-security-policy")).toContain("sandbox");

    const head = await get("docs/readme.txt", {}, "HEAD");
    expect(head.status).toBe(200);
    expect(head.headers.get("etag")).toBe(etag);
    expect(head.headers.get("content-length")).toBe("13");
    expect(await head.text()).toBe("");

    expect((await get("docs/readme.txt", { "if-none-match": etag })).status).toBe(304);
    expect((await get("docs/readme.txt", { "if-none-match": `"other", W/${etag}` })).status).toBe(304);
    expect((await get("docs/readme.txt", { "if-none-match": '"other"' })).status).toBe(200);
  });

  test("a recorded file whose content is gone from the volume is 404 file_content_missing for GET and HEAD", async () => {
    await put("gone/one.txt", "soon gone");
    await put("gone/two.txt", "soon a folder");
    const onDisk = (path: string) => join(t.mediaDir, projectId, path);
    rmSync(onDisk("gone/one.txt"));
    // A folder where the file should be is missing content too, not a server error.
    rmSync(onDisk("gone/two.txt"));
    mkdirSync(onDisk("gone/two.txt"));
    for (const path of ["gone/one.txt", "gone/two.txt"]) {
      const res = await get(path);
      expect([path, res.status, (await errorOf(res)).code]).toEqual([path, 404, "file_content_missing"]);
      expect((await get(path, {}, "HEAD")).status).toBe(404);
    }
    // The row stays: the content may come back with its volume, and DELETE still removes the record.
    expect(await t.db.repo.files.get(projectId, "gone/one.txt")).toMatchObject({ sha256: sha256("soon gone") });
  });

  test("a single Range gives 206 with Content-Range; an unsatisfiable one 416", async () => {
    await put("range.bin", "0123456789");
    const cases: [string, number, string, string | null][] = [
      ["bytes=2-5", 206, "2345", "bytes 2-5/10"],
      ["bytes=7-", 206, "789", "bytes 7-9/10"],
      ["bytes=-3", 206, "789", "bytes 7-9/10"],
      ["bytes=8-100", 206, "89", "bytes 8-9/10"],
      ["bytes=0-1,4-5", 200, "0123456789", null],
    ];
    for (const [range, status, body, contentRange] of cases) {
      const res = await get("range.bin", { range });
      expect([range, res.status, await res.text(), res.headers.get("content-range")]).toEqual([
        range,
        status,
        body,
        contentRange,
      ]);
    }
    const bad = await get("range.bin", { range: "bytes=10-20" });
    expect(bad.status).toBe(416);
    expect(bad.headers.get("content-range")).toBe("bytes */10");
  });

  test("over MAX_UPLOAD_BYTES is 413 and nothing is written, declared or chunked", async () => {
    const declared = await put("big.bin", bytes(MAX + 1));
    expect(declared.status).toBe(413);
    expect((await errorOf(declared)).code).toBe("payload_too_large");
    const streamed = await put("big.bin", chunked([bytes(MAX / 2), bytes(MAX / 2), bytes(10)]));
    expect(streamed.status).toBe(413);
    expect(existsSync(join(t.mediaDir, projectId, "big.bin"))).toBe(false);
    expect(await t.db.repo.files.get(projectId, "big.bin")).toBeUndefined();
    expect(tempFiles()).toEqual([]);
    expect((await put("exact.bin", bytes(MAX))).status).toBe(201);
  });

  test("a failed upload leaves the previous version intact and no temp file", async () => {
    await put("keep.txt", "version one");
    const failed = await put("keep.txt", chunked([bytes(1000), bytes(1000)], 1));
    expect(failed.status).toBe(400);
    expect((await errorOf(failed)).code).toBe("upload_incomplete");
    expect(await (await get("keep.txt")).text()).toBe("version one");
    expect((await t.db.repo.files.get(projectId, "keep.txt"))?.sha256).toBe(sha256("version one"));
    expect(tempFiles()).toEqual([]);
    const tooBig = await put("keep.txt", bytes(MAX + 5));
    expect(tooBig.status).toBe(413);
    expect(await (await get("keep.txt")).text()).toBe("version one");
  });

  test("unsafe paths are 400 with a specific code and touch nothing", async () => {
    const cases: [string, string][] = [
      ["a%2F..%2Fb", "path_dot_segment"],
      ["..%2F..%2Fetc%2Fpasswd", "path_dot_segment"],
      ["%2Fetc%2Fpasswd", "path_absolute"],
      ["a%5Cb", "path_contains_backslash"],
      ["a%00b", "path_contains_nul"],
      ["a%01b", "path_contains_control_character"],
      ["a%2F%2Fb", "path_empty_segment"],
      ["a/", "path_empty_segment"],
      [`${"x".repeat(256)}`, "path_segment_too_long"],
      [Array.from({ length: 6 }, () => "y".repeat(200)).join("/"), "path_too_long"],
      ["%E0%A4%A", "path_bad_encoding"],
      ["%FF", "path_bad_encoding"],
    ];
    const before = readdirSync(join(t.mediaDir, projectId), { recursive: true }).length;
    for (const [path, code] of cases) {
      const res = await put(path, "evil");
      expect([path, res.status, (await errorOf(res)).code]).toEqual([path, 400, code]);
      const read = await get(path);
      expect([path, read.status]).toEqual([path, 400]);
    }
    expect(readdirSync(join(t.mediaDir, projectId), { recursive: true }).length).toBe(before);
    expect(existsSync(join(t.mediaDir, "..", "passwd"))).toBe(false);
  });

  test("a malformed Content-Type is 400; a file cannot also be a folder (409)", async () => {
    expect((await errorOf(await put("x.txt", "x", { "content-type": "not a type" }))).code).toBe(
      "invalid_content_type",
    );
    await put("node", "i am a file");
    const clash = await put("node/child", "x");
    expect(clash.status).toBe(409);
    expect((await errorOf(clash)).code).toBe("path_conflict");
    expect(tempFiles()).toEqual([]);
  });

  test("list is paginated by path; DELETE removes the file and its row", async () => {
    const fresh = (await createProject(t, alice)).id;
    for (const name of ["c", "a", "e", "b", "d"]) {
      await t.request(`/v1/projects/${fresh}/files/${name}.txt`, {
        method: "PUT",
        body: name,
        headers: { authorization: `Bearer ${alice.token}` },
      });
    }
    const first = (await (await t.request(`/v1/projects/${fresh}/files?limit=2`, bearer(alice.token))).json()) as {
      items: { path: string }[];
      next_cursor: string;
    };
    expect(first.items.map((f) => f.path)).toEqual(["a.txt", "b.txt"]);
    const rest = (await (
      await t.request(`/v1/projects/${fresh}/files?limit=10&cursor=${first.next_cursor}`, bearer(alice.token))
    ).json()) as { items: { path: string }[]; next_cursor: null };
    expect(rest.items.map((f) => f.path)).toEqual(["c.txt", "d.txt", "e.txt"]);
    expect(rest.next_cursor).toBeNull();

    const del = await t.request(`/v1/projects/${fresh}/files/c.txt`, {
      method: "DELETE",
      headers: { authorization: `Bearer ${alice.token}` },
    });
    expect(del.status).toBe(204);
    expect(existsSync(join(t.mediaDir, fresh, "c.txt"))).toBe(false);
    expect(await t.db.repo.files.get(fresh, "c.txt")).toBeUndefined();
    expect((await t.request(`/v1/projects/${fresh}/files/c.txt`, bearer(alice.token))).status).toBe(404);
  });

  test("another user's project files are 404 for every method, and unchanged", async () => {
    await put("secret.txt", "alice only");
    for (const method of ["GET", "HEAD", "DELETE"]) {
      const res = await t.request(url("secret.txt"), { method, headers: { authorization: `Bearer ${bob.token}` } });
      expect([method, res.status]).toEqual([method, 404]);
    }
    expect((await put("secret.txt", "bob was here", {}, bob)).status).toBe(404);
    expect((await t.request(`/v1/projects/${projectId}/files`, bearer(bob.token))).status).toBe(404);
    expect(await (await get("secret.txt")).text()).toBe("alice only");
    expect((await t.request(url("secret.txt"), { method: "GET" })).status).toBe(401);
  });

  test("one lookup answers who may see a file: a deleted account is 401, a missing project or file 404, a malformed id 404", async () => {
    const carol = await signUp(t);
    const carols = (await createProject(t, carol)).id;
    const as = (user: TestUser, method = "GET", path = "kept.txt", id = carols) =>
      t.request(`/v1/projects/${id}/files/${path}`, {
        method,
        headers: { authorization: `Bearer ${user.token}` },
        ...(method === "PUT" ? { body: "x" } : {}),
      });
    expect((await as(carol, "PUT")).status).toBe(201);
    expect(await (await as(carol)).text()).toBe("x");
    expect(await errorOf(await as(carol, "GET", "nothing-here.txt"))).toMatchObject({ code: "not_found" });
    expect((await as(carol, "GET", "kept.txt", crypto.randomUUID())).status).toBe(404);
    expect((await as(carol, "GET", "kept.txt", "not-a-uuid")).status).toBe(404);

    expect(await t.db.repo.users.delete(carol.id)).toBe(true);
    for (const method of ["GET", "HEAD", "PUT", "DELETE"]) {
      expect([method, (await as(carol, method)).status]).toEqual([method, 401]);
      expect([method, (await as(carol, method, "kept.txt", "not-a-uuid")).status]).toEqual([method, 401]);
    }
  });

  test("deleting a project deletes its files from disk and database", async () => {
    const doomed = (await createProject(t, alice)).id;
    await t.request(`/v1/projects/${doomed}/files/deep/a/b.txt`, {
      method: "PUT",
      body: "x",
      headers: { authorization: `Bearer ${alice.token}` },
    });
    expect(existsSync(join(t.mediaDir, doomed, "deep/a/b.txt"))).toBe(true);
    expect(
      (
        await t.request(`/v1/projects/${doomed}`, {
          method: "DELETE",
          headers: { authorization: `Bearer ${alice.token}` },
        })
      ).status,
    ).toBe(204);
    expect(existsSync(join(t.mediaDir, doomed))).toBe(false);
    expect(await t.db.repo.files.listAll(doomed)).toEqual([]);
  });
});

describe.each(DIALECTS)("fly-replay on %s", (dialect) => {
  let t: TestApp;
  let alice: TestUser;
  beforeAll(async () => {
    t = await createTestApp(dialect, { ...TEST_ENV, FLY_MACHINE_ID: "machine-a" });
    alice = await signUp(t);
  });
  afterAll(() => t.close());

  const otherVolume = async (machineId: string, seenAgoMs = 0, stopped = false) => {
    const id = `vol-${Bun.randomUUIDv7()}`;
    await t.db.repo.volumes.register({ id, machineId, region: "ewr" }, new Date(Date.now() - seenAgoMs));
    if (stopped) await t.db.repo.volumes.markStopped(id, machineId, new Date());
    return id;
  };
  const fileOn = (projectId: string, path: string, volumeId: string, machineId = "machine-b") =>
    t.db.repo.files.upsert({
      projectId,
      path,
      size: 5,
      sha256: sha256("there"),
      contentType: "text/plain",
      volumeId,
      machineId,
    });
  const auth = (extra: Record<string, string> = {}) => ({ authorization: `Bearer ${alice.token}`, ...extra });

  // The proxy brings the request back (fly-replay-failed) if it cannot reach machine-b.
  const REPLAY_TO_B = "instance=machine-b;timeout=5s;fallback=force_self";

  test("a file on a volume another running machine holds is answered with fly-replay to that machine, no body", async () => {
    const project = await createProject(t, alice);
    const mine = await t.request(`/v1/projects/${project.id}/files/here.txt`, {
      method: "PUT",
      body: "local",
      headers: auth(),
    });
    const mineBody = (await mine.json()) as { machine_id: string; volume_id: string };
    expect(mineBody.machine_id).toBe("machine-a");
    expect(mineBody.volume_id).toMatch(/^vol-/);
    // The volume was written by machine-old, and now machine-b holds it: the replay follows the volume.
    await fileOn(project.id, "there.txt", await otherVolume("machine-b"), "machine-old");

    for (const method of ["GET", "HEAD", "DELETE"]) {
      const res = await t.request(`/v1/projects/${project.id}/files/there.txt`, { method, headers: auth() });
      expect([method, res.status, res.headers.get("fly-replay")]).toEqual([method, 409, REPLAY_TO_B]);
      expect(await res.text()).toBe("");
    }
    const put = await t.request(`/v1/projects/${project.id}/files/there.txt`, {
      method: "PUT",
      body: "new!!",
      headers: auth({ "content-length": "5" }),
    });
    expect([put.status, put.headers.get("fly-replay")]).toEqual([409, REPLAY_TO_B]);
    expect(await t.db.repo.files.get(project.id, "there.txt")).toMatchObject({ sha256: sha256("there") });
    const local = await t.request(`/v1/projects/${project.id}/files/here.txt`, bearer(alice.token));
    expect(local.headers.get("fly-replay")).toBeNull();
    expect(await local.text()).toBe("local");

    const list = (await (await t.request(`/v1/projects/${project.id}/files`, bearer(alice.token))).json()) as {
      items: { path: string; machine_id: string; volume_id: string }[];
    };
    expect(list.items.map((f) => [f.path, f.machine_id])).toEqual([
      ["here.txt", "machine-a"],
      ["there.txt", "machine-b"],
    ]);
    const health = (await (await t.request("/health")).json()) as { media: { volume_id: string } };
    expect(health.media.volume_id).toBe(mineBody.volume_id);
  });

  test("a file whose volume no running machine holds is 503 with Retry-After, never 404 and never a replay", async () => {
    const project = await createProject(t, alice);
    await fileOn(project.id, "stopped.txt", await otherVolume("machine-b", 0, true));
    await fileOn(project.id, "silent.txt", await otherVolume("machine-c", 10 * 60_000));
    await t.db.repo.files.upsert({
      projectId: project.id,
      path: "legacy.txt",
      size: 1,
      sha256: sha256("x"),
      contentType: "text/plain",
      volumeId: "vol-x",
      machineId: "machine-old",
    });
    for (const path of ["stopped.txt", "silent.txt", "legacy.txt"]) {
      for (const method of ["GET", "HEAD"]) {
        const res = await t.request(`/v1/projects/${project.id}/files/${path}`, { method, headers: auth() });
        expect([path, method, res.status, res.headers.get("fly-replay")]).toEqual([path, method, 503, null]);
        expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
        if (method === "GET") expect((await errorOf(res)).code).toBe("volume_unavailable");
      }
    }
  });

  test("a replayed request that finds the file elsewhere is a clear 503, not another replay", async () => {
    const project = await createProject(t, alice);
    await fileOn(project.id, "moved.txt", await otherVolume("machine-b"));
    const res = await t.request(`/v1/projects/${project.id}/files/moved.txt`, {
      headers: auth({ "fly-replay-src": "instance=machine-c;region=ewr;t=1" }),
    });
    expect([res.status, res.headers.get("fly-replay")]).toEqual([503, null]);
    const error = await errorOf(res);
    expect(error.code).toBe("file_not_on_this_volume");
    expect(error.message).toContain("not replayed again");

    const failed = await t.request(`/v1/projects/${project.id}/files/moved.txt`, {
      headers: auth({
        "fly-replay-failed":
          "instance=machine-b;app=x;region=ewr;replay_source=machine-a;reason=no_candidate;elapsed_ms=3",
      }),
    });
    expect([failed.status, failed.headers.get("fly-replay")]).toEqual([503, null]);
    expect(Number(failed.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(await errorOf(failed)).toMatchObject({
      code: "volume_unreachable",
      message: expect.stringContaining("no_candidate"),
    });
  });

  test("deleting a file held on a stopped machine's volume removes the row now and leaves work for that volume", async () => {
    const project = await createProject(t, alice);
    const stopped = await otherVolume("machine-b", 0, true);
    await fileOn(project.id, "later.txt", stopped);
    const res = await t.request(`/v1/projects/${project.id}/files/later.txt`, { method: "DELETE", headers: auth() });
    expect(res.status).toBe(204);
    expect(await t.db.repo.files.get(project.id, "later.txt")).toBeUndefined();
    const pending = await t.db.repo.deletions.pending(stopped, 100);
    expect(pending.map((d) => [d.projectId, d.path])).toContainEqual([project.id, "later.txt"]);
  });
});
