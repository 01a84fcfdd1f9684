import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { resolveBase, defaultBaseReference, type ResolvedBase } from "./base.ts";
import { dependencyLayer } from "./deps.ts";
import { parseDockerignore } from "./dockerignore.ts";
import { readGitRevision, readSourceUrl } from "./git.ts";
import { composeConfig } from "./image-config.ts";
import { buildLayer, sha256, type BuiltLayer, type LayerOwner } from "./layer.ts";
import { OCI_CONFIG, OCI_MANIFEST, ociLayerMediaType, type ImageConfig, type ImageManifest } from "./oci.ts";
import { RegistryPool } from "./pool.ts";
import { collectTree } from "./tree.ts";

export interface BuildImageOptions {
  projectDir: string;
  /** Base image; default FLIGHTDECK_IMAGE_BASE or oven/bun:<Bun.version>-slim. */
  base?: string;
  /** Clients per registry host (auth, retries); share one with pushImage so tokens are reused. */
  pool?: RegistryPool;
  /** Where the dependency layer and base blobs are cached; default <projectDir>/.cache/image. */
  cacheDir?: string;
  cmd?: string[];
  revision?: string;
  source?: string;
  env?: Record<string, string | undefined>;
}

export interface BuiltImage {
  base: ResolvedBase;
  /** Our layers, in order: production dependencies, then application files. */
  layers: BuiltLayer[];
  config: { json: ImageConfig; bytes: Uint8Array; digest: string };
  manifest: { json: ImageManifest; bytes: Uint8Array; digest: string; mediaType: string };
  manifestDigest: string;
}

/** uid/gid 1000 is the `bun` user of the oven/bun images; Fly mounts volumes owned by the image USER. */
export const OWNER: LayerOwner = { uid: 1000, gid: 1000, mtime: 0 };
/**
 * The same CMD the generated Dockerfile has (package.json "dockerfile".cmd), so both images start alike.
 * `--smol` trades a little throughput for a smaller heap: it keeps peak RSS under load within the 150 MB the
 * 256 MB preview machine allows (measured by `bun run bench:api`).
 */
export const DEFAULT_CMD = ["bun", "--smol", "src/server.ts"];
const CREATED = "1970-01-01T00:00:00Z";
const encoder = new TextEncoder();

/**
 * Build the image without a daemon: base (pinned), + production node_modules layer, + application
 * layer (what .dockerignore lets through, plus an empty /app/media), + config, + OCI manifest.
 * Everything is deterministic, so the same tree and revision always give the same manifest digest.
 */
export async function buildImage(opts: BuildImageOptions): Promise<BuiltImage> {
  const env = opts.env ?? process.env;
  const projectDir = resolve(opts.projectDir);
  const cacheDir = opts.cacheDir ?? join(projectDir, ".cache", "image");
  const pool = opts.pool ?? new RegistryPool();
  const [base, deps] = await Promise.all([
    resolveBase(opts.base ?? defaultBaseReference(env), (r) => pool.client(r)),
    dependencyLayer({ projectDir, cacheDir, owner: OWNER }),
  ]);
  const app = applicationLayer(projectDir);
  const layers = [deps, app];

  const labels: Record<string, string> = {};
  const revision = opts.revision ?? readGitRevision(projectDir, env);
  const source = opts.source ?? readSourceUrl(projectDir, env);
  if (revision) labels["org.opencontainers.image.revision"] = revision;
  if (source) labels["org.opencontainers.image.source"] = source;
  labels["org.opencontainers.image.base.name"] = base.requested;

  const configJson = composeConfig(base.config, layers, {
    user: "bun",
    workingDir: "/app",
    cmd: opts.cmd ?? DEFAULT_CMD,
    env: { NODE_ENV: "production" },
    exposedPorts: ["3000/tcp"],
    labels,
    created: CREATED,
  });
  const configBytes = encoder.encode(JSON.stringify(configJson));
  const configDigest = sha256(configBytes);

  const manifestJson: ImageManifest = {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: { mediaType: OCI_CONFIG, digest: configDigest, size: configBytes.length },
    layers: [
      ...base.manifest.layers.map((l) => ({
        mediaType: ociLayerMediaType(l.mediaType),
        digest: l.digest,
        size: l.size,
      })),
      ...layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size })),
    ],
    annotations: {
      "org.opencontainers.image.base.name": base.requested,
      "org.opencontainers.image.base.digest": base.manifestDigest,
    },
  };
  const manifestBytes = encoder.encode(JSON.stringify(manifestJson));
  const manifestDigest = sha256(manifestBytes);
  return {
    base,
    layers,
    config: { json: configJson, bytes: configBytes, digest: configDigest },
    manifest: { json: manifestJson, bytes: manifestBytes, digest: manifestDigest, mediaType: OCI_MANIFEST },
    manifestDigest,
  };
}

/**
 * The application files as Docker's `COPY . .` would see them. node_modules is always left out even
 * if .dockerignore forgets it: the dependency layer owns /app/node_modules, and the host's copy holds
 * dev dependencies and host-platform binaries.
 */
export function applicationLayer(projectDir: string): BuiltLayer {
  const ignoreFile = join(projectDir, ".dockerignore");
  const rules = existsSync(ignoreFile) ? readFileSync(ignoreFile, "utf8") : "";
  const ignore = parseDockerignore(`${rules}\n/node_modules\n/.git\n`);
  const entries = collectTree(projectDir, { prefix: "app", ignore }).filter((e) => e.path !== "app/media");
  return buildLayer(
    [{ path: "app", type: "dir", mode: 0o755 }, { path: "app/media", type: "dir", mode: 0o755 }, ...entries],
    OWNER,
    "application",
  );
}
