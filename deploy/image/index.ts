/**
 * Daemonless OCI image build and registry push.
 * Entry points: `buildImage` + `pushImage`, or `buildAndPushImage` for a deploy.
 */
import { join } from "node:path";
import { buildImage, type BuildImageOptions, type BuiltImage } from "./build.ts";
import { RegistryPool } from "./pool.ts";
import { pushImage, type BlobEvent, type PushResult } from "./push.ts";

export { buildImage, applicationLayer, type BuildImageOptions, type BuiltImage } from "./build.ts";
export { pushImage, type PushResult, type PushTarget, type BlobEvent } from "./push.ts";
export { ImageError, type ImageErrorCode } from "./errors.ts";
export { RegistryPool } from "./pool.ts";
export { RegistryClient } from "./registry.ts";
export { parseReference, formatReference } from "./reference.ts";
export { imageCommand } from "./cli.ts";

export const DEFAULT_REGISTRY = "registry.fly.io";

export interface BuildAndPushOptions {
  /** Fly app name; the image goes to <registry>/<app>. */
  app: string;
  /** Tag suffix: the image is tagged `deployment-<id>` like flyctl does. */
  deploymentId: string;
  /** FLY_API_TOKEN; sent as Basic x:<token> to the registry only. */
  token: string;
  /** Default FLY_REGISTRY or registry.fly.io. */
  registry?: string;
  projectDir?: string;
  base?: string;
  cacheDir?: string;
  env?: Record<string, string | undefined>;
  onBlob?(event: BlobEvent): void;
}

export interface BuildAndPushResult extends PushResult {
  image: BuiltImage;
}

/**
 * What `deploy` calls when no --image is given. Returns the digest-pinned reference
 * (`registry.fly.io/<app>@sha256:...`) to put in the machine config, and the tag it also pushed.
 */
export async function buildAndPushImage(opts: BuildAndPushOptions): Promise<BuildAndPushResult> {
  const env = opts.env ?? process.env;
  const registry = opts.registry ?? (env.FLY_REGISTRY || DEFAULT_REGISTRY);
  const projectDir = opts.projectDir ?? process.cwd();
  const cacheDir = opts.cacheDir ?? join(projectDir, ".cache", "image");
  const pool = new RegistryPool({ [registry]: { username: "x", password: opts.token } });
  const build: BuildImageOptions = { projectDir, base: opts.base, pool, cacheDir, env };
  const image = await buildImage(build);
  const pushed = await pushImage(image, {
    registry,
    repository: opts.app,
    tag: `deployment-${opts.deploymentId}`,
    pool,
    cacheDir,
    onBlob: opts.onBlob,
  });
  return { ...pushed, image };
}
