/**
 * One name per file (issue 22): paths are put in Unicode NFC on the way in, and migration 0003 moves rows
 * written before (and their bytes on the holding volume) to that form without losing a colliding file.
 * Real routes, real databases, real files on a temp volume.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { createLogger } from "../../../lib/log.ts";
import { applyRenames } from "../../../src/media/renames.ts";
import { MediaStore } from "../../../src/media/store.ts";
import { createTestApp, type TestApp } from "../../support/app.ts";
import { bearer, createProject, DIALECTS, signUp, TEST_ENV, type TestUser } from "../api-helpers.ts";

const NFD = "cafe\u0301.txt";
const NFC = "caf\u00e9.txt";
const sha256 = (data: string) => new Bun.CryptoHasher("sha256").update(data).digest("hex");

describe.each(DIALECTS)("file names on %s", (dialect) => {
  let t: TestApp;
  let alice: TestUser;
  let projectId: string;
  const url = (path: string, id = projectId) => `/v1/projects/${id}/files/${encodeURIComponent(path)}`;
  const send = (method: string, path: string, body?: string, id = projectId) =>
    t.request(url(path, id), { method, body, ...bearer(alice.token) });
  const listed = async (id = projectId) =>
    (
      (await (await t.request(`/v1/projects/${id}/files`, bearer(alice.token))).json()) as { items: { path: string }[] }
    ).items.map((f) => f.path);

  beforeAll(async () => {
    t = await createTestApp(dialect, TEST_ENV);
    alice = await signUp(t);
    projectId = (await createProject(t, alice)).id;
  });
  afterAll(() => t.close());

  test("PUT cafe\\u0301.txt, then GET caf\\u00e9.txt answers the bytes; one row, one name on disk", async () => {
    const created = await send("PUT", NFD, "accent");
    expect(created.status).toBe(201);
    expect(((await created.json()) as { path: string }).path).toBe(NFC);
    const read = await send("GET", NFC);
    expect([read.status, await read.text()]).toEqual([200, "accent"]);
    expect(await listed()).toEqual([NFC]);
    expect(readdirSync(join(t.mediaDir, projectId))).toEqual([NFC]);

    // The other form is the same file: a replace (200), not a second file.
    expect((await send("PUT", NFC, "again")).status).toBe(200);
    expect(await (await send("GET", NFD)).text()).toBe("again");
    expect(await listed()).toEqual([NFC]);
    // The cursor is next_cursor as given: the NFC name pages past the file.
    const page = await t.request(
      `/v1/projects/${projectId}/files?cursor=${encodeURIComponent(NFC)}`,
      bearer(alice.token),
    );
    expect(((await page.json()) as { items: unknown[] }).items).toEqual([]);
    expect((await send("DELETE", NFD)).status).toBe(204);
    expect(await listed()).toEqual([]);
  });

  test("migration 0003: old rows take their NFC name, collisions are left and reported, bytes follow on the holder", async () => {
    const project = (await createProject(t, alice)).id;
    // A file put through the API first, so the volume is registered; its id names the volume for the old rows.
    const seed = (await (await send("PUT", "seed.txt", "seed", project)).json()) as { volume_id: string };
    const volumeId = seed.volume_id;
    const media = new MediaStore(t.mediaDir);
    /** A row and its bytes as code before NFC wrote them: the path exactly as the client sent it. */
    const legacy = async (path: string, content: string) => {
      const location = media.location(project, path);
      mkdirSync(dirname(location), { recursive: true });
      writeFileSync(location, content);
      const row = await t.db.repo.files.upsert({
        projectId: project,
        path,
        size: content.length,
        sha256: sha256(content),
        contentType: "text/plain",
        volumeId,
        machineId: "local",
      });
      await Bun.sleep(5); // updated_at orders "newest" below
      return row.id;
    };
    const alone = await legacy(`dir-e\u0301/${NFD}`, "only the NFD form");
    await legacy("r\u00e9sum\u00e9.txt", "the NFC one");
    const shadowed = await legacy("re\u0301sume\u0301.txt", "an NFD twin");
    const olderVariant = await legacy("A\u030a.txt", "A + combining ring, older");
    const newerVariant = await legacy("\u212b.txt", "Angstrom sign, newer");

    const { names } = await t.db.migrate();
    expect(names?.renamed).toBe(2);
    expect(names?.collisions.map((c) => c.fileId).sort()).toEqual([olderVariant, shadowed].sort());
    expect(await t.db.repo.files.get(project, `dir-\u00e9/${NFC}`)).toMatchObject({ id: alone });
    expect(await t.db.repo.files.get(project, "\u00c5.txt")).toMatchObject({ id: newerVariant });
    // Nothing was lost: the colliding rows are still there under the names they had.
    expect(await t.db.repo.files.get(project, "re\u0301sume\u0301.txt")).toMatchObject({ id: shadowed });
    expect(await t.db.repo.files.get(project, "A\u030a.txt")).toMatchObject({ id: olderVariant });

    // Before the holder has moved the bytes, the new name has no content here.
    expect((await send("GET", `dir-\u00e9/${NFC}`, undefined, project)).status).toBe(404);
    const moved = await applyRenames({ repo: t.db.repo, media, volumeId, logger: createLogger({ write: () => {} }) });
    expect(moved).toEqual({ moved: 2, stuck: 0 });
    for (const [path, content] of [
      [`dir-e\u0301/${NFD}`, "only the NFD form"],
      ["\u212b.txt", "Angstrom sign, newer"],
      ["r\u00e9sum\u00e9.txt", "the NFC one"],
    ]) {
      const res = await send("GET", path as string, undefined, project);
      expect([path, res.status, await res.text()]).toEqual([path, 200, content]);
    }
    expect(existsSync(media.location(project, `dir-e\u0301/${NFD}`))).toBe(false);
    // The left rows keep their bytes under their own names.
    expect(await Bun.file(media.location(project, "A\u030a.txt")).text()).toBe("A + combining ring, older");
    expect(await Bun.file(media.location(project, "re\u0301sume\u0301.txt")).text()).toBe("an NFD twin");

    // A row left under its old name pages on from exactly that name (the cursor is not put in NFC).
    const all = async (cursor?: string) => {
      const q = cursor === undefined ? "" : `&cursor=${encodeURIComponent(cursor)}`;
      const res = await t.request(`/v1/projects/${project}/files?limit=1${q}`, bearer(alice.token));
      return (await res.json()) as { items: { path: string }[]; next_cursor: string | null };
    };
    const walked: string[] = [];
    for (let page = await all(); ; page = await all(page.next_cursor as string)) {
      walked.push(...page.items.map((f) => f.path));
      if (page.next_cursor === null) break;
    }
    expect(walked.length).toBe(6);
    expect(new Set(walked).size).toBe(6);

    // Idempotent: a second run renames nothing, reports the same collisions, and nothing is pending on disk.
    const again = await t.db.migrate();
    expect([again.applied, again.names?.renamed, again.names?.collisions.length]).toEqual([0, 0, 2]);
    expect(await t.db.repo.renames.pendingOn(volumeId)).toEqual([]);
  });

  test("when both names hold bytes, the row's hash decides; neither matching leaves the rename pending", async () => {
    const project = (await createProject(t, alice)).id;
    const seed = (await (await send("PUT", "seed.txt", "seed", project)).json()) as { volume_id: string };
    const media = new MediaStore(t.mediaDir);
    const place = (path: string, content: string) => {
      const location = media.location(project, path);
      mkdirSync(dirname(location), { recursive: true });
      writeFileSync(location, content);
    };
    const row = async (path: string, content: string) =>
      t.db.repo.files.upsert({
        projectId: project,
        path,
        size: content.length,
        sha256: sha256(content),
        contentType: "text/plain",
        volumeId: seed.volume_id,
        machineId: "local",
      });
    // Old bytes are the file's, a leftover sits at the new name: the leftover goes.
    await row("one-e\u0301.txt", "the file");
    place("one-e\u0301.txt", "the file");
    place("one-\u00e9.txt", "leftover");
    // Neither copy is what the row describes: nothing is touched.
    await row("two-e\u0301.txt", "described");
    place("two-e\u0301.txt", "not it");
    place("two-\u00e9.txt", "not it either");
    await t.db.migrate();
    const quiet = createLogger({ write: () => {} });
    expect(await applyRenames({ repo: t.db.repo, media, volumeId: seed.volume_id, logger: quiet })).toEqual({
      moved: 1,
      stuck: 1,
    });
    expect(await (await send("GET", "one-\u00e9.txt", undefined, project)).text()).toBe("the file");
    expect(await Bun.file(media.location(project, "two-e\u0301.txt")).text()).toBe("not it");
    expect(await Bun.file(media.location(project, "two-\u00e9.txt")).text()).toBe("not it either");
    expect((await t.db.repo.renames.pendingOn(seed.volume_id)).map((r) => r.toPath)).toEqual(["two-\u00e9.txt"]);
  });
});
