/**
 * In production MEDIA_DIR must be a mount point (src/media/mount.ts): the mountinfo parser on real text (this
 * machine's own and a Fly machine's shape), and the app on a plain directory (uploads 503 volume_missing,
 * /health 503 with the reason, a missing MEDIA_DIR never created) and on a real tmpfs mount (uploads work).
 */
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { checkMediaMount, mountAt, parseMountInfo } from "../../../src/media/mount.ts";
import { createTestApp } from "../../support/app.ts";
import { createProject, errorOf, signUp, TEST_ENV } from "../api-helpers.ts";

/** The shape of a Fly Machine's mountinfo with a volume at /app/media (device numbers as on a real one). */
const FLY_MOUNTINFO = `22 1 253:0 / / rw,relatime - ext4 /dev/vda rw
23 22 0:5 / /dev rw,nosuid - devtmpfs devtmpfs rw,size=100656k,nr_inodes=25164,mode=755
24 22 0:21 / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw
31 22 253:16 / /app/media rw,relatime shared:12 - ext4 /dev/vdb rw
32 22 253:32 / /data/with\\040space rw,relatime - ext4 /dev/vdc rw
`;

describe("parseMountInfo", () => {
  test("reads mount point, type and source, optional fields and octal escapes included", () => {
    const entries = parseMountInfo(FLY_MOUNTINFO);
    expect(entries).toHaveLength(5);
    expect(mountAt("/app/media", entries)).toEqual({ mountPoint: "/app/media", fsType: "ext4", source: "/dev/vdb" });
    expect(mountAt("/app/media/", entries)?.source).toBe("/dev/vdb");
    expect(mountAt("/data/with space", entries)?.source).toBe("/dev/vdc");
    // A directory under the root filesystem is not a mount point, nor is a parent of one.
    expect(mountAt("/app", entries)).toBeUndefined();
    expect(mountAt("/app/media/sub", entries)).toBeUndefined();
  });

  test("this machine's own /proc/self/mountinfo: / and /proc are found", () => {
    const entries = parseMountInfo(readFileSync("/proc/self/mountinfo", "utf8"));
    expect(mountAt("/", entries)).toBeDefined();
    expect(mountAt("/proc", entries)?.fsType).toBe("proc");
    expect(entries.every((e) => e.mountPoint.startsWith("/"))).toBe(true);
  });

  test("checkMediaMount: not required is fine; missing or plain directories say why", async () => {
    const plain = mkdtempSync(join(tmpdir(), "flightdeck-plain-"));
    try {
      expect(await checkMediaMount(plain, false)).toEqual({ ok: true });
      const notMount = await checkMediaMount(plain, true);
      expect(notMount.ok).toBe(false);
      expect(!notMount.ok && notMount.reason).toContain("is not a mount point");
      const missing = await checkMediaMount(join(plain, "absent"), true);
      expect(!missing.ok && missing.reason).toContain("does not exist");
      expect(existsSync(join(plain, "absent"))).toBe(false);
    } finally {
      rmSync(plain, { recursive: true, force: true });
    }
  });
});

describe("the app where a mount is required", () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const dir of dirs) {
      Bun.spawnSync(["umount", dir]);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("on a plain directory: uploads 503 volume_missing, /health 503 says why, nothing created", async () => {
    const parent = mkdtempSync(join(tmpdir(), "flightdeck-nomount-"));
    dirs.push(parent);
    const mediaDir = join(parent, "media");
    const t = await createTestApp("sqlite", { ...TEST_ENV, MEDIA_DIR: mediaDir, MEDIA_REQUIRE_MOUNT: "true" });
    try {
      const alice = await signUp(t);
      const project = await createProject(t, alice);
      const res = await t.request(`/v1/projects/${project.id}/files/a.txt`, {
        method: "PUT",
        body: "hello",
        headers: { authorization: `Bearer ${alice.token}` },
      });
      expect(res.status).toBe(503);
      expect(res.headers.get("retry-after")).not.toBeNull();
      const error = await errorOf(res);
      expect(error.code).toBe("volume_missing");
      expect(error.message).toContain("does not exist");
      const health = await t.request("/health");
      expect(health.status).toBe(503);
      const body = (await health.json()) as { reason: string; media: { volume_missing: string } };
      expect(body.reason).toStartWith("volume missing: MEDIA_DIR");
      expect(body.media.volume_missing).toContain(mediaDir);
      // Never made on the root filesystem.
      expect(existsSync(mediaDir)).toBe(false);
    } finally {
      await t.close();
    }
  });

  const mountDir = mkdtempSync(join(tmpdir(), "flightdeck-mounted-"));
  dirs.push(mountDir);
  const mounted = Bun.spawnSync(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", mountDir]).exitCode === 0;
  if (!mounted) console.warn(`\n!!! cannot mount a tmpfs at ${mountDir} (not root?): skipping the mounted case !!!\n`);

  test.skipIf(!mounted)("on a real mount point: uploads are stored and /health is ok", async () => {
    const t = await createTestApp("sqlite", { ...TEST_ENV, MEDIA_DIR: mountDir, MEDIA_REQUIRE_MOUNT: "true" });
    try {
      const alice = await signUp(t);
      const project = await createProject(t, alice);
      const res = await t.request(`/v1/projects/${project.id}/files/a.txt`, {
        method: "PUT",
        body: "hello",
        headers: { authorization: `Bearer ${alice.token}` },
      });
      expect(res.status).toBe(201);
      const health = await t.request("/health");
      expect(health.status).toBe(200);
      expect(((await health.json()) as { media: { volume_missing: unknown } }).media.volume_missing).toBeNull();
    } finally {
      await t.close();
    }
  });
});
