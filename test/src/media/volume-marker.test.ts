import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureVolumeMarker, MARKER_NAME, VolumeMarkerError } from "../../../src/media/volume-marker.ts";

const root = mkdtempSync(join(tmpdir(), "flightdeck-marker-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const freshDir = () => join(root, `v${++n}`);

describe("volume marker", () => {
  test("created once; every later read, on any machine id, gives the same identity", async () => {
    const dir = freshDir();
    const first = await ensureVolumeMarker(dir, "m-1");
    expect(first.created).toBe(true);
    expect(first.id).toMatch(/^vol-[0-9a-f-]{36}$/);
    const again = await ensureVolumeMarker(dir, "m-2");
    expect({ ...again, created: true }).toEqual(first);
    expect(again.created).toBe(false);
    expect(readdirSync(dir)).toEqual([MARKER_NAME]);
  });

  test("twenty concurrent first boots agree on one identity and leave no temp files", async () => {
    const dir = freshDir();
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => ensureVolumeMarker(dir, `m-${i}`)));
    expect(new Set(results.map((r) => r.id)).size).toBe(1);
    expect(results.filter((r) => r.created).length).toBe(1);
    expect(readdirSync(dir)).toEqual([MARKER_NAME]);
  });

  test("an unreadable or foreign marker is an error, never a new identity", async () => {
    for (const content of ["", "{not json", JSON.stringify({ id: "../../etc" }), JSON.stringify({ other: 1 })]) {
      const dir = freshDir();
      await ensureVolumeMarker(dir, "m"); // creates the folder
      writeFileSync(join(dir, MARKER_NAME), content);
      const error = await ensureVolumeMarker(dir, "m").catch((e) => e);
      expect([content, error instanceof VolumeMarkerError]).toEqual([content, true]);
      expect((error as VolumeMarkerError).code).toBe("volume_marker_unreadable");
      expect((error as Error).message).toContain("refusing to guess");
    }
  });

  test("the server refuses to start on a volume whose marker is unreadable (exit 1, before opening a port)", async () => {
    const dir = freshDir();
    await ensureVolumeMarker(dir, "m");
    writeFileSync(join(dir, MARKER_NAME), "garbage");
    const child = Bun.spawn(["bun", "src/server.ts"], {
      cwd: new URL("../../../", import.meta.url).pathname,
      env: {
        PATH: process.env.PATH ?? "",
        APP_ENV: "development",
        PORT: "0",
        DATABASE_URL: `sqlite:${dir}-db/db.sqlite`,
        MEDIA_DIR: dir,
        LOG_LEVEL: "info",
      },
      stdout: "pipe",
      stderr: "pipe",
    });
    expect(await child.exited).toBe(1);
    const out = await new Response(child.stdout).text();
    expect(out).toContain("refusing to start");
    expect(out).toContain("volume_marker_unreadable");
    expect(out).not.toContain("listening");
  }, 20_000);
});
