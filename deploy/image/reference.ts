import { ImageError } from "./errors.ts";

/** A parsed image reference: `registry/repository[:tag][@digest]`. */
export interface ImageReference {
  /** Host[:port] used for API calls (docker.io is normalised to registry-1.docker.io). */
  registry: string;
  repository: string;
  tag?: string;
  digest?: string;
}

export const DOCKER_HUB = "registry-1.docker.io";

/**
 * Parse a reference the way the Docker CLI does: the first path component is a registry only if it
 * contains "." or ":" or is "localhost"; otherwise the image lives on Docker Hub, where single-name
 * images belong to "library/" (docker/distribution reference normalisation).
 */
export function parseReference(input: string): ImageReference {
  const text = input.trim();
  if (!text || /\s/.test(text)) throw new ImageError("invalid_reference", `"${input}" is not an image reference`);
  let rest = text;
  let digest: string | undefined;
  const at = rest.indexOf("@");
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!/^sha256:[a-f0-9]{64}$/.test(digest)) {
      throw new ImageError("invalid_reference", `"${input}": digest must be sha256:<64 hex>`);
    }
  }
  let registry = DOCKER_HUB;
  const slash = rest.indexOf("/");
  const first = slash >= 0 ? rest.slice(0, slash) : "";
  if (slash >= 0 && (first.includes(".") || first.includes(":") || first === "localhost")) {
    registry = first === "docker.io" || first === "index.docker.io" ? DOCKER_HUB : first;
    rest = rest.slice(slash + 1);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(":");
  if (colon >= 0) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!/^[\w][\w.-]{0,127}$/.test(tag)) throw new ImageError("invalid_reference", `"${input}": bad tag "${tag}"`);
  }
  if (registry === DOCKER_HUB && !rest.includes("/")) rest = `library/${rest}`;
  if (!/^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/.test(rest)) {
    throw new ImageError("invalid_reference", `"${input}": bad repository name "${rest}"`);
  }
  if (!tag && !digest) tag = "latest";
  return { registry, repository: rest, tag, digest };
}

export function formatReference(ref: ImageReference): string {
  const host = ref.registry === DOCKER_HUB ? "docker.io" : ref.registry;
  return `${host}/${ref.repository}${ref.tag && !ref.digest ? `:${ref.tag}` : ""}${ref.digest ? `@${ref.digest}` : ""}`;
}
