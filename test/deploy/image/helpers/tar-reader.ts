/** Read a ustar/pax archive back, to check what a pushed layer really contains. */
export interface ReadEntry {
  path: string;
  type: string;
  mode: number;
  uid: number;
  gid: number;
  mtime: number;
  size: number;
  linkname: string;
  data: Uint8Array;
}

export function readTar(tar: Uint8Array): ReadEntry[] {
  const out: ReadEntry[] = [];
  const dec = new TextDecoder();
  const str = (b: Uint8Array) => dec.decode(b.subarray(0, b.indexOf(0) < 0 ? b.length : b.indexOf(0)));
  const oct = (b: Uint8Array) => parseInt(str(b).trim() || "0", 8);
  let offset = 0;
  let pax: Record<string, string> = {};
  while (offset + 512 <= tar.length) {
    const h = tar.subarray(offset, offset + 512);
    if (h.every((b) => b === 0)) break;
    const size = oct(h.subarray(124, 136));
    const type = String.fromCharCode(h[156]!);
    const data = tar.subarray(offset + 512, offset + 512 + size);
    offset += 512 + Math.ceil(size / 512) * 512;
    if (type === "x") {
      pax = {};
      for (const rec of dec.decode(data).split("\n")) {
        const m = /^\d+ ([^=]+)=(.*)$/.exec(rec);
        if (m) pax[m[1]!] = m[2]!;
      }
      continue;
    }
    const prefix = str(h.subarray(345, 500));
    const name = str(h.subarray(0, 100));
    out.push({
      path: (pax.path ?? (prefix ? `${prefix}/${name}` : name)).replace(/\/$/, ""),
      type,
      mode: oct(h.subarray(100, 108)),
      uid: oct(h.subarray(108, 116)),
      gid: oct(h.subarray(116, 124)),
      mtime: oct(h.subarray(136, 148)),
      size,
      linkname: pax.linkpath ?? str(h.subarray(157, 257)),
      data,
    });
    pax = {};
  }
  return out;
}
