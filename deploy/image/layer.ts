import { createTar, type TarEntry } from "./tar.ts";

export const OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip";

/** A layer we built: the compressed blob plus the two digests the image needs. */
export interface BuiltLayer {
  mediaType: string;
  /** sha256 of the gzip blob: what the manifest and the registry address. */
  digest: string;
  /** sha256 of the uncompressed tar: what the config's rootfs.diff_ids lists. */
  diffId: string;
  size: number;
  blob: Uint8Array<ArrayBuffer>;
  /** Why the layer exists, for the config history and for humans ("dependencies", "application"). */
  comment: string;
}

export interface LayerOwner {
  uid: number;
  gid: number;
  mtime: number;
}

export function sha256(data: Uint8Array): string {
  return `sha256:${new Bun.CryptoHasher("sha256").update(data).digest("hex")}`;
}

/**
 * Bun.gzipSync (zlib with the gzip wrapper) writes MTIME=0 and no FNAME, so equal tars give equal
 * blobs; level 6 is zlib's default and what `docker push` uses, a fair size/speed trade.
 */
export function buildLayer(entries: TarEntry[], owner: LayerOwner, comment: string): BuiltLayer {
  const tar = createTar(entries, owner);
  const blob = Bun.gzipSync(tar as Uint8Array<ArrayBuffer>, { level: 6 });
  return { mediaType: OCI_LAYER_GZIP, digest: sha256(blob), diffId: sha256(tar), size: blob.length, blob, comment };
}
