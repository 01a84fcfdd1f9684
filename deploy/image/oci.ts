/** The OCI image-spec shapes we read and write (https://github.com/opencontainers/image-spec). */
export const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
export const OCI_INDEX = "application/vnd.oci.image.index.v1+json";
export const OCI_CONFIG = "application/vnd.oci.image.config.v1+json";
export const DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json";
export const DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json";

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
  platform?: { architecture: string; os: string; variant?: string };
}

export interface ImageManifest {
  schemaVersion: 2;
  mediaType?: string;
  config: Descriptor;
  layers: Descriptor[];
  annotations?: Record<string, string>;
}

export interface ImageIndex {
  schemaVersion: 2;
  mediaType?: string;
  manifests: Descriptor[];
}

export interface ImageConfig {
  created?: string;
  architecture: string;
  os: string;
  config?: {
    User?: string;
    Env?: string[];
    Entrypoint?: string[] | null;
    Cmd?: string[] | null;
    WorkingDir?: string;
    ExposedPorts?: Record<string, object>;
    Labels?: Record<string, string>;
    [key: string]: unknown;
  };
  rootfs: { type: "layers"; diff_ids: string[] };
  history?: { created?: string; created_by?: string; comment?: string; empty_layer?: boolean }[];
}

/** Docker's v2 layer types are byte-identical to OCI's; only the name differs. */
export function ociLayerMediaType(mediaType: string): string {
  switch (mediaType) {
    case "application/vnd.docker.image.rootfs.diff.tar.gzip":
      return "application/vnd.oci.image.layer.v1.tar+gzip";
    case "application/vnd.docker.image.rootfs.diff.tar":
      return "application/vnd.oci.image.layer.v1.tar";
    default:
      return mediaType;
  }
}
