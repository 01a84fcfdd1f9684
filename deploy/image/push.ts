import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { BuiltImage } from "./build.ts";
import { sha256 } from "./layer.ts";
import { RegistryPool } from "./pool.ts";

export interface PushTarget {
  registry: string;
  repository: string;
  tag: string;
  pool?: RegistryPool;
  /** Blobs above this size go up in PATCH chunks. */
  chunkSize?: number;
  /** Cache for base blobs copied from another registry; default none (download each time). */
  cacheDir?: string;
  concurrency?: number;
  onBlob?(event: BlobEvent): void;
}

export type BlobAction = "exists" | "mounted" | "uploaded";
export interface BlobEvent {
  digest: string;
  size: number;
  action: BlobAction;
  role: "base" | "layer" | "config";
}

export interface PushResult {
  /** registry/repository@sha256:... — what a machine config should run. */
  reference: string;
  tagged: string;
  digest: string;
  uploadedBytes: number;
  blobs: BlobEvent[];
}

/**
 * Push with the distribution API: HEAD each blob and skip what the repository already has; mount base
 * layers from the base repository when it lives on the same registry; otherwise upload (base layers
 * are first fetched from their own registry). Config goes last before the manifest, which a registry
 * only accepts once every blob it names exists.
 */
export async function pushImage(image: BuiltImage, target: PushTarget): Promise<PushResult> {
  const pool = target.pool ?? new RegistryPool();
  const client = pool.client(target.registry);
  const sameRegistry = pool.client(image.base.ref.registry) === client;
  if (sameRegistry && image.base.ref.repository !== target.repository)
    client.addScope(image.base.ref.repository, "pull");
  client.addScope(target.repository, "pull,push");

  type Job = { digest: string; size: number; role: BlobEvent["role"]; data?: Uint8Array };
  const jobs: Job[] = [
    ...image.base.manifest.layers.map((l) => ({ digest: l.digest, size: l.size, role: "base" as const })),
    ...image.layers.map((l) => ({ digest: l.digest, size: l.size, role: "layer" as const, data: l.blob })),
  ];
  const events: BlobEvent[] = [];
  const pushOne = async (job: Job) => {
    let action: BlobAction;
    if (await client.hasBlob(target.repository, job.digest)) {
      action = "exists";
    } else {
      let location: string | undefined;
      if (job.role === "base" && sameRegistry) {
        const mount = await client.mountBlob(target.repository, job.digest, image.base.ref.repository);
        if (!mount.mounted) location = mount.location;
      }
      if (job.role === "base" && sameRegistry && !location) {
        action = "mounted";
      } else {
        const data = job.data ?? (await baseBlob(pool, image, job.digest, target.cacheDir));
        await client.uploadBlob(target.repository, job.digest, data, { chunkSize: target.chunkSize, location });
        action = "uploaded";
      }
    }
    const event = { digest: job.digest, size: job.size, action, role: job.role };
    events.push(event);
    target.onBlob?.(event);
  };
  await runLimited(jobs, target.concurrency ?? 3, pushOne);

  const configJob: Job = {
    digest: image.config.digest,
    size: image.config.bytes.length,
    role: "config",
    data: image.config.bytes,
  };
  await pushOne(configJob);
  const digest = await client.putManifest(
    target.repository,
    target.tag,
    image.manifest.bytes,
    image.manifest.mediaType,
  );
  const host = target.registry;
  return {
    reference: `${host}/${target.repository}@${digest}`,
    tagged: `${host}/${target.repository}:${target.tag}`,
    digest,
    uploadedBytes: events.filter((e) => e.action === "uploaded").reduce((n, e) => n + e.size, 0),
    blobs: events,
  };
}

async function baseBlob(pool: RegistryPool, image: BuiltImage, digest: string, cacheDir?: string): Promise<Uint8Array> {
  const path = cacheDir ? join(cacheDir, "blobs", digest.replace(":", "-")) : undefined;
  if (path && existsSync(path)) {
    const cached = new Uint8Array(readFileSync(path));
    if (sha256(cached) === digest) return cached;
  }
  const data = await pool.client(image.base.ref.registry).getBlob(image.base.ref.repository, digest);
  if (path && cacheDir) {
    mkdirSync(join(cacheDir, "blobs"), { recursive: true });
    writeFileSync(`${path}.tmp`, data);
    renameSync(`${path}.tmp`, path);
  }
  return data;
}

async function runLimited<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
