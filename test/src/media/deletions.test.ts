import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { silentLogger } from "../../../lib/log.ts";
import {
  ABANDON_AFTER_MS,
  drainDeletions,
  KEEP_DONE_DELETIONS_MS,
  pruneDeletions,
} from "../../../src/media/deletions.ts";
import { MediaStore } from "../../../src/media/store.ts";
import { createTestApp, type TestApp } from "../../support/app.ts";
import { createProject, DIALECTS, signUp, TEST_ENV, type TestUser } from "../api-helpers.ts";

describe.each(DIALECTS)("deletion work on %s", (dialect) => {
  let t: TestApp;
  let alice: TestUser;
  let media: MediaStore;
  let now = Date.now();
  const HERE = "vol-here";
  const THERE = "vol-there";
  const drain = (volumeId = HERE) =>
    drainDeletions({ repo: t.db.repo, media, volumeId, clock: () => now, logger: silentLogger });
  const bytesAt = (projectId: string, path: string, content = "x") => {
    const file = join(t.mediaDir, projectId, path);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, content);
    return file;
  };
  const row = (projectId: string, path: string, volumeId: string) =>
    t.db.repo.files.upsert({
      projectId,
      path,
      size: 1,
      sha256: "0".repeat(64),
      contentType: "text/plain",
      volumeId,
      machineId: "m",
    });

  beforeAll(async () => {
    t = await createTestApp(dialect, TEST_ENV);
    media = new MediaStore(t.mediaDir);
    alice = await signUp(t);
  });
  afterAll(() => t.close());

  test("a deleted file's bytes go, once per volume; each volume keeps its own receipt", async () => {
    const project = (await createProject(t, alice)).id;
    const file = bytesAt(project, "a/gone.txt");
    await t.db.repo.deletions.record(project, "a/gone.txt", new Date(now));
    expect(await drain()).toMatchObject({ removed: 1, waiting: 0 });
    expect(existsSync(file)).toBe(false);
    expect((await drain()).removed).toBe(0);
    // Another volume has not done it yet: the same work is still pending for it.
    expect((await t.db.repo.deletions.pending(THERE, 1000)).some((d) => d.projectId === project)).toBe(true);
  });

  test("work that finds its file still held on this volume keeps the bytes, waits, and is dropped as moot later", async () => {
    const project = (await createProject(t, alice)).id;
    const file = bytesAt(project, "live.txt", "live");
    await row(project, "live.txt", HERE);
    await t.db.repo.deletions.record(project, "live.txt", new Date(now));
    expect(await drain()).toMatchObject({ removed: 0, waiting: 1 });
    expect(existsSync(file)).toBe(true);
    now += ABANDON_AFTER_MS + 1;
    expect(await drain()).toMatchObject({ removed: 0, moot: 1 });
    expect(existsSync(file)).toBe(true);
    expect(await drain()).toMatchObject({ removed: 0, moot: 0, waiting: 0 });
  });

  test("a stale copy of a file now held on another volume is removed here", async () => {
    const project = (await createProject(t, alice)).id;
    const file = bytesAt(project, "moved.txt");
    await t.db.repo.deletions.record(project, "moved.txt", new Date(now));
    await row(project, "moved.txt", THERE);
    expect((await drain()).removed).toBe(1);
    expect(existsSync(file)).toBe(false);
  });

  test("a project's work waits while the project exists and removes its folder once it is gone", async () => {
    const project = (await createProject(t, alice)).id;
    bytesAt(project, "deep/x/y.txt");
    await t.db.repo.deletions.record(project, null, new Date(now));
    expect(await drain()).toMatchObject({ waiting: 1, removed: 0 });
    expect(existsSync(join(t.mediaDir, project))).toBe(true);
    expect(await t.db.repo.projects.delete(alice.id, project)).toBe(true);
    expect((await drain()).removed).toBe(1);
    expect(existsSync(join(t.mediaDir, project))).toBe(false);
  });

  test("history is forgotten only when old, done by every registered volume, and no row awaits its volume", async () => {
    await t.db.repo.volumes.register({ id: HERE, machineId: "m-here", region: "ewr" }, new Date(now));
    await t.db.repo.volumes.register({ id: THERE, machineId: "m-there", region: "ewr" }, new Date(now));
    const old = new Date(now - KEEP_DONE_DELETIONS_MS - 1);
    const doneEverywhere = await t.db.repo.deletions.record("p-x", "a", old);
    const doneHereOnly = await t.db.repo.deletions.record("p-x", "b", old);
    const recent = await t.db.repo.deletions.record("p-x", "c", new Date(now));
    for (const d of [doneEverywhere, doneHereOnly, recent])
      await t.db.repo.deletions.receipt(d.id, HERE, new Date(now));
    for (const d of [doneEverywhere, recent]) await t.db.repo.deletions.receipt(d.id, THERE, new Date(now));
    const remaining = async () =>
      new Set((await t.db.repo.deletions.pending("vol-never-seen", 10_000)).map((d) => d.id));

    // A row still waiting for its machine to register a volume (written before volumes: volume_id null) holds
    // everything back, since that volume's history is not known to be done.
    const project = (await createProject(t, alice)).id;
    await t.db.repo.files.upsert({
      projectId: project,
      path: "legacy",
      size: 1,
      sha256: "0".repeat(64),
      contentType: "text/plain",
      volumeId: null as unknown as string,
      machineId: "m-old",
    });
    expect(await pruneDeletions(t.db.repo, () => now)).toBe(0);
    expect(await t.db.repo.volumes.claimUnplacedFiles(HERE, "m-old")).toBe(1);
    expect(await pruneDeletions(t.db.repo, () => now)).toBeGreaterThanOrEqual(1);
    const left = await remaining();
    expect([left.has(doneEverywhere.id), left.has(doneHereOnly.id), left.has(recent.id)]).toEqual([false, true, true]);
  });
});
