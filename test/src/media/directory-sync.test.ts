/** Group-committed directory syncs (src/media/durable.ts): shared when they can be, never relied on when they cannot. */
import { expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createDirectorySync, fsyncPath } from "../../../src/media/durable.ts";

/** A real fsync that also records when each began and ended, and takes at least `ms`. */
function recordedSync(ms: number) {
  const syncs: { dir: string; began: number; ended: number }[] = [];
  const sync = async (dir: string) => {
    const record = { dir, began: performance.now(), ended: Number.NaN };
    syncs.push(record);
    await Promise.all([fsyncPath(dir), Bun.sleep(ms)]);
    record.ended = performance.now();
  };
  return { syncs, sync };
}

test("callers arriving during a sync share the next one, and each is answered only by a sync that began after it called", async () => {
  const dir = mkdtempSync(join(tmpdir(), "flightdeck-dirsync-"));
  try {
    const { syncs, sync } = recordedSync(30);
    const syncDirectory = createDirectorySync(sync);
    const first = syncDirectory(dir).then(() => performance.now());
    await Bun.sleep(5);
    const calledAt: number[] = [];
    const later = Array.from({ length: 10 }, () => {
      calledAt.push(performance.now());
      return syncDirectory(dir).then(() => performance.now());
    });
    const answered = await Promise.all(later);
    await first;
    expect(syncs).toHaveLength(2);
    for (const [i, at] of calledAt.entries()) {
      const covering = syncs.find((s) => s.began >= at && s.ended <= answered[i]!);
      expect(covering).toBeDefined();
    }
    // Once idle, the next caller starts a fresh sync at once.
    await syncDirectory(dir);
    expect(syncs).toHaveLength(3);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("directories sync independently, and a failed sync fails its callers without blocking the next", async () => {
  const a = mkdtempSync(join(tmpdir(), "flightdeck-dirsync-a-"));
  const b = mkdtempSync(join(tmpdir(), "flightdeck-dirsync-b-"));
  try {
    const { syncs, sync } = recordedSync(20);
    const syncDirectory = createDirectorySync(sync);
    await Promise.all([syncDirectory(a), syncDirectory(b)]);
    expect(syncs.map((s) => s.dir).sort()).toEqual([a, b].sort());

    const missing = join(a, "gone");
    const outcomes = await Promise.allSettled([syncDirectory(missing), syncDirectory(missing)]);
    expect(outcomes.map((o) => o.status)).toEqual(["rejected", "rejected"]);
    expect(((outcomes[0] as PromiseRejectedResult).reason as { code?: string }).code).toBe("ENOENT");
    await syncDirectory(a);
  } finally {
    rmSync(a, { recursive: true, force: true });
    rmSync(b, { recursive: true, force: true });
  }
});
