import { ImageError } from "./errors.ts";
import {
  DOCKER_MANIFEST_LIST,
  OCI_INDEX,
  type Descriptor,
  type ImageConfig,
  type ImageIndex,
  type ImageManifest,
} from "./oci.ts";
import { formatReference, parseReference, type ImageReference } from "./reference.ts";
import type { RegistryClient } from "./registry.ts";

export interface ResolvedBase {
  /** As given, e.g. "oven/bun:1.4.5-slim". */
  requested: string;
  /** Pinned to the linux/amd64 image manifest, e.g. "docker.io/oven/bun@sha256:...". */
  pinned: string;
  ref: ImageReference;
  manifestDigest: string;
  manifest: ImageManifest;
  config: ImageConfig;
}

/** The base the Dockerfile also uses: the Bun version running this build, slim variant. */
export function defaultBaseReference(env: Record<string, string | undefined> = process.env): string {
  return env.FLIGHTDECK_IMAGE_BASE || `oven/bun:${Bun.version}-slim`;
}

/**
 * Resolve a base tag to the linux/amd64 manifest (Fly Machines run amd64) and its config.
 * Multi-arch tags point at an index; we pick the platform entry and pin its digest so the image we
 * build never drifts when the tag moves.
 */
export async function resolveBase(
  requested: string,
  clientFor: (registry: string) => RegistryClient,
): Promise<ResolvedBase> {
  const ref = parseReference(requested);
  const client = clientFor(ref.registry);
  let res = await client.getManifest(ref.repository, ref.digest ?? ref.tag ?? "latest");
  let json = JSON.parse(new TextDecoder().decode(res.bytes)) as ImageManifest | ImageIndex;
  const mediaType = res.mediaType || json.mediaType;
  if (mediaType === OCI_INDEX || mediaType === DOCKER_MANIFEST_LIST || "manifests" in json) {
    const entry = (json as ImageIndex).manifests.find(
      (m) =>
        m.platform?.os === "linux" &&
        m.platform.architecture === "amd64" &&
        (!m.platform.variant || m.platform.variant === "v1"),
    );
    if (!entry) {
      throw new ImageError("base_platform_missing", `${requested} has no linux/amd64 image (Fly Machines run amd64)`, {
        registry: ref.registry,
      });
    }
    res = await client.getManifest(ref.repository, entry.digest);
    json = JSON.parse(new TextDecoder().decode(res.bytes)) as ImageManifest;
  }
  const manifest = json as ImageManifest;
  if (!manifest.config || !Array.isArray(manifest.layers)) {
    throw new ImageError("registry_protocol", `${requested} resolved to something that is not an image manifest`, {
      registry: ref.registry,
    });
  }
  const config = JSON.parse(
    new TextDecoder().decode(await client.getBlob(ref.repository, manifest.config.digest)),
  ) as ImageConfig;
  if (config.os !== "linux" || config.architecture !== "amd64") {
    throw new ImageError(
      "base_platform_missing",
      `${requested} is ${config.os}/${config.architecture}, need linux/amd64`,
      {
        registry: ref.registry,
      },
    );
  }
  return {
    requested,
    pinned: formatReference({ registry: ref.registry, repository: ref.repository, digest: res.digest }),
    ref,
    manifestDigest: res.digest,
    manifest,
    config,
  };
}

export type BaseLayer = Descriptor;
