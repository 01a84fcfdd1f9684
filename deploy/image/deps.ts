import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ImageError } from "./errors.ts";
import { buildLayer, sha256, type BuiltLayer, type LayerOwner } from "./layer.ts";
import { collectTree } from "./tree.ts";

/** Fields of package.json that decide what `bun install --production` puts in node_modules. */
const INSTALL_FIELDS = [
  "dependencies",
  // devDependencies are not installed, but --frozen-lockfile compares them with bun.lock.
  "devDependencies",
  "optionalDependencies",
  "peerDependencies",
  "overrides",
  "resolutions",
  "trustedDependencies",
  "workspaces",
  "patchedDependencies",
] as const;

/** Bump when the layer layout changes so old cache entries are not reused. */
const LAYOUT_VERSION = 1;

export interface DependencyLayerOptions {
  projectDir: string;
  cacheDir: string;
  owner: LayerOwner;
  /** Target platform for optional native packages; Fly Machines are linux/x64. */
  os?: string;
  cpu?: string;
}

/**
 * The production node_modules as one layer, under /app/node_modules.
 *
 * Installed with `bun install --production --frozen-lockfile --os linux --cpu x64` in a staging folder
 * holding only package.json + bun.lock, so the host's node_modules (dev deps, other platform binaries)
 * never leaks into the image. This is the one process this module starts: there is no library API for
 * bun's installer; it runs the current bun binary by path with an argument list, never a shell.
 *
 * The finished layer is cached under cacheDir keyed by the lockfile and the install-relevant
 * package.json fields, so a source-only change never reinstalls and the digest cannot drift.
 */
export async function dependencyLayer(opts: DependencyLayerOptions): Promise<BuiltLayer> {
  const os = opts.os ?? "linux";
  const cpu = opts.cpu ?? "x64";
  const pkgText = readProjectFile(opts.projectDir, "package.json");
  const lockText = readProjectFile(opts.projectDir, "bun.lock");
  let pkg: Record<string, unknown>;
  try {
    pkg = JSON.parse(pkgText) as Record<string, unknown>;
  } catch (cause) {
    throw new ImageError("invalid_input", "package.json is not valid JSON; fix it and build again", { cause });
  }
  const installInputs = Object.fromEntries(INSTALL_FIELDS.filter((f) => f in pkg).map((f) => [f, pkg[f]]));
  const key = sha256(
    new TextEncoder().encode(
      JSON.stringify({
        v: LAYOUT_VERSION,
        bun: Bun.version,
        os,
        cpu,
        owner: opts.owner,
        lock: lockText,
        installInputs,
      }),
    ),
  ).slice("sha256:".length, "sha256:".length + 32);

  const cached = join(opts.cacheDir, `deps-${key}.tar.gz`);
  const meta = join(opts.cacheDir, `deps-${key}.json`);
  if (existsSync(cached) && existsSync(meta)) {
    const blob = new Uint8Array(readFileSync(cached));
    const info = JSON.parse(readFileSync(meta, "utf8")) as { digest: string; diffId: string };
    if (sha256(blob) === info.digest) {
      return {
        mediaType: "application/vnd.oci.image.layer.v1.tar+gzip",
        digest: info.digest,
        diffId: info.diffId,
        size: blob.length,
        blob,
        comment: "production dependencies",
      };
    }
  }

  const staging = mkdtempSync(join(tmpdir(), "flightdeck-deps-"));
  try {
    // The staged package.json keeps only what installs: scripts such as "prepare" must not run here.
    writeFileSync(
      join(staging, "package.json"),
      JSON.stringify({ name: pkg.name ?? "app", version: pkg.version ?? "0.0.0", ...installInputs }),
    );
    writeFileSync(join(staging, "bun.lock"), lockText);
    const proc = Bun.spawn(
      [
        process.execPath,
        "install",
        "--production",
        "--frozen-lockfile",
        `--os=${os}`,
        `--cpu=${cpu}`,
        "--no-progress",
        "--no-save",
      ],
      { cwd: staging, stdout: "pipe", stderr: "pipe", env: { ...process.env, NO_COLOR: "1" } },
    );
    const [code, stderr] = await Promise.all([proc.exited, new Response(proc.stderr).text()]);
    if (code !== 0) {
      throw new ImageError(
        "dependency_install_failed",
        `bun install --production --frozen-lockfile failed (exit ${code}): ${stderr.trim().split("\n").slice(-5).join(" | ")}. ` +
          "If the lockfile is out of date, run `bun install` and commit bun.lock.",
      );
    }
    const entries = existsSync(join(staging, "node_modules"))
      ? collectTree(join(staging, "node_modules"), { prefix: "app/node_modules" })
      : [];
    // Bun's own bookkeeping files are not part of the dependency tree and may differ between runs.
    const kept = entries.filter((e) => !/^app\/node_modules\/\.(cache|bun-tag)(\/|$)/.test(e.path));
    const layer = buildLayer(
      [{ path: "app", type: "dir", mode: 0o755 }, { path: "app/node_modules", type: "dir", mode: 0o755 }, ...kept],
      opts.owner,
      "production dependencies",
    );
    mkdirSync(opts.cacheDir, { recursive: true });
    writeFileSync(`${cached}.tmp`, layer.blob);
    renameSync(`${cached}.tmp`, cached);
    writeFileSync(meta, JSON.stringify({ digest: layer.digest, diffId: layer.diffId }));
    return layer;
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

function readProjectFile(dir: string, name: string): string {
  try {
    return readFileSync(join(dir, name), "utf8");
  } catch (cause) {
    throw new ImageError("invalid_input", `${name} is missing in ${dir}; the image installs dependencies from it`, {
      cause,
    });
  }
}
