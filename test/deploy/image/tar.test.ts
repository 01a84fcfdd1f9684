import { describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTar } from "../../../deploy/image/tar.ts";
import { buildLayer } from "../../../deploy/image/layer.ts";
import { readTar } from "./helpers/tar-reader.ts";

const enc = new TextEncoder();
const longDir = `app/node_modules/${"very-long-package-name-".repeat(6)}/dist/esm`;
const longName = `${longDir}/${"x".repeat(120)}.js`;

describe("createTar", () => {
  const entries = [
    { path: "app", type: "dir" as const, mode: 0o755 },
    { path: "app/b.txt", type: "file" as const, mode: 0o644, data: enc.encode("bee\n") },
    { path: "app/a.sh", type: "file" as const, mode: 0o755, data: enc.encode("#!/bin/sh\n") },
    { path: "app/link", type: "symlink" as const, mode: 0o777, target: "a.sh" },
    { path: longName, type: "file" as const, mode: 0o644, data: enc.encode("long") },
  ];

  test("GNU tar extracts it: names (incl. >255 bytes via pax), modes, symlinks, owners", () => {
    const dir = mkdtempSync(join(tmpdir(), "fd-tar-"));
    try {
      writeFileSync(join(dir, "layer.tar"), createTar(entries, { uid: 1000, gid: 1000, mtime: 0 }));
      const list = Bun.spawnSync(["tar", "-tvf", join(dir, "layer.tar"), "--numeric-owner"]);
      expect(list.exitCode).toBe(0);
      expect(list.stdout.toString()).toContain("1000/1000");
      const out = join(dir, "out");
      Bun.spawnSync(["mkdir", out]);
      const x = Bun.spawnSync(["tar", "-xf", join(dir, "layer.tar"), "-C", out]);
      expect(x.stderr.toString()).toBe("");
      expect(readFileSync(join(out, "app/b.txt"), "utf8")).toBe("bee\n");
      expect(statSync(join(out, "app/a.sh")).mode & 0o777).toBe(0o755);
      expect(readlinkSync(join(out, "app/link"))).toBe("a.sh");
      expect(readFileSync(join(out, longName), "utf8")).toBe("long");
      expect(statSync(join(out, "app/b.txt")).mtimeMs).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("entry order and bytes do not depend on input order", () => {
    const a = createTar(entries, { uid: 1000, gid: 1000 });
    const b = createTar([...entries].reverse(), { uid: 1000, gid: 1000 });
    expect(Buffer.compare(Buffer.from(a), Buffer.from(b))).toBe(0);
    expect(readTar(a).map((e) => e.path)).toEqual(["app", "app/a.sh", "app/b.txt", "app/link", longName]);
    expect(a.length % 512).toBe(0);
  });

  test("layers are byte-identical across runs; the gzip header carries no mtime or name", () => {
    const one = buildLayer(entries, { uid: 1000, gid: 1000, mtime: 0 }, "x");
    const two = buildLayer(entries, { uid: 1000, gid: 1000, mtime: 0 }, "x");
    expect(one.digest).toBe(two.digest);
    expect([...one.blob.subarray(0, 4)]).toEqual([0x1f, 0x8b, 8, 0]); // FLG=0: no FNAME/FCOMMENT
    expect([...one.blob.subarray(4, 8)]).toEqual([0, 0, 0, 0]); // MTIME=0
    expect(one.diffId).toBe(`sha256:${new Bun.CryptoHasher("sha256").update(Bun.gunzipSync(one.blob)).digest("hex")}`);
    const otherOwner = buildLayer(entries, { uid: 0, gid: 0, mtime: 0 }, "x");
    expect(otherOwner.digest).not.toBe(one.digest);
  });
});
