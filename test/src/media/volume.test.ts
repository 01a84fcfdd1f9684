import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger } from "../../../lib/log.ts";
import { Volume } from "../../../src/media/volume.ts";
import { createTestApp, type TestApp } from "../../support/app.ts";
import { DIALECTS, TEST_ENV } from "../api-helpers.ts";

describe.each(DIALECTS)("this machine's volume record on %s", (dialect) => {
  let t: TestApp;
  let dir: string;
  let now = Date.parse("2026-12-01T08:00:00Z");
  const logged: { level: string; msg: string }[] = [];
  const logger = createLogger({ level: "debug", write: (line) => void logged.push(JSON.parse(line)) });
  const volumeOn = (machineId: string) =>
    new Volume({
      mediaDir: dir,
      flyMachineId: machineId,
      region: "ewr",
      repo: t.db.repo,
      heartbeatMs: 1000,
      clock: () => now,
      logger,
    });

  beforeAll(async () => {
    t = await createTestApp(dialect, TEST_ENV);
    dir = mkdtempSync(join(tmpdir(), "flightdeck-volume-"));
  });
  afterAll(async () => {
    await t.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test("registers at first use, refreshes seen_at, marks stopped, and a restart clears stopped", async () => {
    const volume = volumeOn("m-1");
    expect(volume.current()).toBeUndefined();
    const identity = await volume.identity();
    expect(volume.current()).toEqual(identity);
    expect(await t.db.repo.volumes.get(identity.id)).toMatchObject({
      machineId: "m-1",
      region: "ewr",
      stoppedAt: null,
      seenAt: new Date(now),
    });
    now += 1000;
    await volume.heartbeat();
    expect((await t.db.repo.volumes.get(identity.id))?.seenAt).toEqual(new Date(now));
    await volume.markStopped();
    expect((await t.db.repo.volumes.get(identity.id))?.stoppedAt).toEqual(new Date(now));
    await volumeOn("m-1").identity();
    expect((await t.db.repo.volumes.get(identity.id))?.stoppedAt).toBeNull();
  });

  test("the same volume on a new machine id is re-pointed; the old holder does not take it back", async () => {
    const old = volumeOn("m-1");
    const identity = await old.identity();
    const moved = await volumeOn("m-2").identity();
    expect(moved.id).toBe(identity.id);
    expect((await t.db.repo.volumes.get(identity.id))?.machineId).toBe("m-2");
    logged.length = 0;
    await old.heartbeat();
    expect((await t.db.repo.volumes.get(identity.id))?.machineId).toBe("m-2");
    expect(
      logged.some((l) => l.level === "error" && l.msg.includes("another machine has registered this volume")),
    ).toBe(true);
  });

  test("a new, empty volume settles the deletion history at once; a volume that already holds files drains it", async () => {
    const deletion = await t.db.repo.deletions.record("p-gone", null, new Date(now));
    const emptyDir = mkdtempSync(join(tmpdir(), "flightdeck-volume-empty-"));
    const fullDir = mkdtempSync(join(tmpdir(), "flightdeck-volume-full-"));
    mkdirSync(join(fullDir, "p-gone"));
    try {
      const on = (mediaDir: string, machineId: string) =>
        new Volume({
          mediaDir,
          flyMachineId: machineId,
          region: "ewr",
          repo: t.db.repo,
          heartbeatMs: 1000,
          clock: () => now,
          logger,
        }).identity();
      const empty = await on(emptyDir, "m-new");
      const full = await on(fullDir, "m-legacy");
      const pendingIds = async (volumeId: string) =>
        (await t.db.repo.deletions.pending(volumeId, 1000)).map((d) => d.id);
      expect(await pendingIds(empty.id)).not.toContain(deletion.id);
      expect(await pendingIds(full.id)).toContain(deletion.id);
    } finally {
      rmSync(emptyDir, { recursive: true, force: true });
      rmSync(fullDir, { recursive: true, force: true });
    }
  });
});
