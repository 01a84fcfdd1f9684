/**
 * A full volume, for real: MEDIA_DIR on a 1 MiB tmpfs. The upload that does not fit is 507
 * `insufficient_storage` with nothing partial left and no row written; earlier files stay intact; a delete
 * makes room again; /health reports the free bytes and low space, /metrics the gauge.
 *
 * Mounting needs root (CAP_SYS_ADMIN); where it is refused, the suite says so loudly and the same route is
 * driven with a MediaStore whose disk is full (ENOSPC from the writer), so the 507 path is still covered.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MediaStore } from "../../../src/media/store.ts";
import { createTestApp, type TestApp } from "../../support/app.ts";
import { createProject, DIALECTS, errorOf, signUp, TEST_ENV, type TestUser } from "../api-helpers.ts";

const dir = mkdtempSync(join(tmpdir(), "flightdeck-full-"));
const mounted = Bun.spawnSync(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", dir]).exitCode === 0;
if (!mounted)
  console.warn(
    `\n!!! cannot mount a tmpfs at ${dir} (not root?): the full-volume suite uses an injected ENOSPC writer instead !!!\n`,
  );

/** Used only when mounting is refused: a store whose every write fails as a full disk's does. */
class FullDiskStore extends MediaStore {
  override async receive(): Promise<never> {
    throw Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC", syscall: "write" });
  }
}

const dialect = DIALECTS.includes("postgres") ? "postgres" : "sqlite";

describe(`a full volume (${mounted ? "1 MiB tmpfs" : "injected ENOSPC"}, ${dialect})`, () => {
  let t: TestApp;
  let alice: TestUser;
  let projectId: string;
  const KIB = 1024;
  const put = (path: string, size: number) =>
    t.request(`/v1/projects/${projectId}/files/${path}`, {
      method: "PUT",
      body: new Uint8Array(size).fill(7),
      headers: { authorization: `Bearer ${alice.token}` },
    });

  beforeAll(async () => {
    t = await createTestApp(
      dialect,
      { ...TEST_ENV, MAX_UPLOAD_BYTES: String(900 * KIB), MEDIA_DIR: dir, METRICS_TOKEN: "metrics-token-for-the-test" },
      mounted ? {} : { media: new FullDiskStore(dir) },
    );
    alice = await signUp(t);
    projectId = (await createProject(t, alice)).id;
  });
  afterAll(async () => {
    await t?.close().catch(() => {});
    if (mounted) Bun.spawnSync(["umount", dir]);
    rmSync(dir, { recursive: true, force: true });
  });

  test.skipIf(!mounted)(
    "files that fit are stored; the one that does not is 507 with nothing left behind",
    async () => {
      expect((await put("a.bin", 450 * KIB)).status).toBe(201);
      expect((await put("b.bin", 480 * KIB)).status).toBe(201);

      const refused = await put("c.bin", 200 * KIB);
      expect(refused.status).toBe(507);
      expect(refused.headers.get("retry-after")).toBe("60");
      const error = await errorOf(refused);
      expect(error.code).toBe("insufficient_storage");
      expect(error.request_id).toBe(refused.headers.get("x-request-id")!);

      // Nothing partial: no temp file, no content, no row.
      expect(readdirSync(join(dir, ".tmp"))).toEqual([]);
      expect(existsSync(join(dir, projectId, "c.bin"))).toBe(false);
      const missing = await t.request(`/v1/projects/${projectId}/files/c.bin`, {
        headers: { authorization: `Bearer ${alice.token}` },
      });
      expect(missing.status).toBe(404);
      const a = await t.request(`/v1/projects/${projectId}/files/a.bin`, {
        headers: { authorization: `Bearer ${alice.token}` },
      });
      expect(a.status).toBe(200);
      expect((await a.arrayBuffer()).byteLength).toBe(450 * KIB);

      // /health and /metrics say how full the volume is.
      const health = (await (await t.request("/health")).json()) as { media: Record<string, unknown> };
      expect(health.media.size_bytes).toBe(1024 * KIB);
      expect(health.media.free_bytes as number).toBeLessThan(200 * KIB);
      expect(health.media.low_space).toBe(true);
      const metrics = await (
        await t.request("/metrics", { headers: { authorization: "Bearer metrics-token-for-the-test" } })
      ).text();
      expect(metrics).toMatch(/media_volume_bytes\{kind="free"\} \d+/);
      expect(metrics).toContain(`media_volume_bytes{kind="size"} ${1024 * KIB}`);
      expect(metrics).toContain('http_errors_total{kind="dependency",code="insufficient_storage"} 1');

      // A delete makes room, and the same upload fits.
      const deleted = await t.request(`/v1/projects/${projectId}/files/b.bin`, {
        method: "DELETE",
        headers: { authorization: `Bearer ${alice.token}` },
      });
      expect(deleted.status).toBe(204);
      expect((await put("c.bin", 200 * KIB)).status).toBe(201);
      const after = (await (await t.request("/health")).json()) as { media: Record<string, unknown> };
      expect(after.media.free_bytes as number).toBeGreaterThan(health.media.free_bytes as number);
    },
  );

  test.skipIf(mounted)("an ENOSPC from the writer is 507 and writes no row", async () => {
    const refused = await put("c.bin", 4 * KIB);
    expect(refused.status).toBe(507);
    expect((await errorOf(refused)).code).toBe("insufficient_storage");
    const missing = await t.request(`/v1/projects/${projectId}/files/c.bin`, {
      headers: { authorization: `Bearer ${alice.token}` },
    });
    expect(missing.status).toBe(404);
  });
});
