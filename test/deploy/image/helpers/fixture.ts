import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildLayer } from "../../../../deploy/image/layer.ts";
import { OCI_CONFIG, OCI_INDEX, OCI_MANIFEST } from "../../../../deploy/image/oci.ts";
import type { RegistryClient } from "../../../../deploy/image/registry.ts";

export const REPO_ROOT = join(import.meta.dir, "../../../..");
const enc = new TextEncoder();

/**
 * A tiny stand-in for oven/bun:<version>-slim pushed into the test registry (no internet): a multi-arch
 * index whose linux/amd64 image has one layer with /etc/passwd (user bun, uid 1000) and a marker file.
 */
export async function pushFixtureBase(client: RegistryClient, repository: string, tag: string) {
  const layer = buildLayer(
    [
      { path: "etc", type: "dir", mode: 0o755 },
      {
        path: "etc/passwd",
        type: "file",
        mode: 0o644,
        data: enc.encode("root:x:0:0:root:/root:/bin/sh\nbun:x:1000:1000::/home/bun:/bin/sh\n"),
      },
      { path: "etc/group", type: "file", mode: 0o644, data: enc.encode("root:x:0:\nbun:x:1000:\n") },
      { path: "usr", type: "dir", mode: 0o755 },
      { path: "usr/local", type: "dir", mode: 0o755 },
      { path: "usr/local/bin", type: "dir", mode: 0o755 },
      { path: "usr/local/bin/bun-fixture", type: "file", mode: 0o755, data: enc.encode("#!/bin/sh\necho fixture\n") },
    ],
    { uid: 0, gid: 0, mtime: 0 },
    "fixture base",
  );
  const image = async (arch: string) => {
    const config = enc.encode(
      JSON.stringify({
        architecture: arch,
        os: "linux",
        config: {
          Env: ["PATH=/usr/local/bin:/usr/bin:/bin", "BUN_RUNTIME_TRANSPILER_CACHE_PATH=0"],
          Entrypoint: ["/usr/local/bin/docker-entrypoint.sh"],
          Cmd: ["/usr/local/bin/bun"],
          WorkingDir: "/home/bun/app",
        },
        rootfs: { type: "layers", diff_ids: [layer.diffId] },
        history: [{ created_by: "fixture" }],
      }),
    );
    const configDigest = `sha256:${new Bun.CryptoHasher("sha256").update(config).digest("hex")}`;
    for (const [digest, data] of [
      [configDigest, config],
      [layer.digest, layer.blob],
    ] as const) {
      if (!(await client.hasBlob(repository, digest))) await client.uploadBlob(repository, digest, data);
    }
    // Docker Hub serves oven/bun layers with Docker media types; mirror that so the OCI mapping is exercised.
    const manifest = enc.encode(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_MANIFEST,
        config: { mediaType: OCI_CONFIG, digest: configDigest, size: config.length },
        layers: [
          { mediaType: "application/vnd.docker.image.rootfs.diff.tar.gzip", digest: layer.digest, size: layer.size },
        ],
      }),
    );
    const digest = await client.putManifest(repository, `${tag}-${arch}`, manifest, OCI_MANIFEST);
    return { digest, size: manifest.length };
  };
  const amd64 = await image("amd64");
  const arm64 = await image("arm64");
  const index = enc.encode(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_INDEX,
      manifests: [
        {
          mediaType: OCI_MANIFEST,
          digest: arm64.digest,
          size: arm64.size,
          platform: { architecture: "arm64", os: "linux", variant: "v8" },
        },
        {
          mediaType: OCI_MANIFEST,
          digest: amd64.digest,
          size: amd64.size,
          platform: { architecture: "amd64", os: "linux" },
        },
      ],
    }),
  );
  await client.putManifest(repository, tag, index, OCI_INDEX);
  return { amd64Digest: amd64.digest, arm64Digest: arm64.digest, layer };
}

/** A project tree like ours: real package.json + bun.lock (so the deps layer is real), a few sources. */
export function createFixtureProject(): string {
  const dir = mkdtempSync(join(tmpdir(), "fd-project-"));
  copyFileSync(join(REPO_ROOT, "package.json"), join(dir, "package.json"));
  copyFileSync(join(REPO_ROOT, "bun.lock"), join(dir, "bun.lock"));
  mkdirSync(join(dir, "src/routes"), { recursive: true });
  mkdirSync(join(dir, "test"), { recursive: true });
  mkdirSync(join(dir, "node_modules/left-pad"), { recursive: true });
  mkdirSync(join(dir, ".git/refs/heads"), { recursive: true });
  writeFileSync(join(dir, "src/server.ts"), 'console.log("server");\n');
  writeFileSync(join(dir, "src/routes/health.ts"), "export const ok = true;\n");
  writeFileSync(join(dir, "test/app.test.ts"), "// must not ship\n");
  writeFileSync(join(dir, "node_modules/left-pad/index.js"), "// host node_modules must not ship\n");
  writeFileSync(join(dir, ".env"), "SECRET_KEY=must-not-ship\n");
  writeFileSync(join(dir, ".dockerignore"), "/.git\n/node_modules\n.env\n/test\n/.cache\nDockerfile\n");
  writeFileSync(join(dir, ".git/HEAD"), "ref: refs/heads/main\n");
  writeFileSync(join(dir, ".git/refs/heads/main"), "0123456789abcdef0123456789abcdef01234567\n");
  return dir;
}
