/**
 * A deterministic POSIX ustar writer (PAX `path`/`linkpath` records for long names).
 * Written here rather than pulled in: the whole format is ~100 lines and owning it lets us pin every
 * byte that feeds a layer digest (order, owner, mode, mtime), which is the point of the layer cache.
 * Format: POSIX.1-2001 pax / ustar (IEEE Std 1003.1, "pax" Interchange Format).
 */
export type TarEntry =
  | { path: string; type: "dir"; mode: number }
  | { path: string; type: "file"; mode: number; data: Uint8Array }
  | { path: string; type: "symlink"; mode: number; target: string };

export interface TarOptions {
  uid?: number;
  gid?: number;
  /** Seconds since the epoch for every entry; 0 keeps layers reproducible (SOURCE_DATE_EPOCH style). */
  mtime?: number;
}

const BLOCK = 512;
const encoder = new TextEncoder();

/** Serialise entries in byte order of their paths, so the same tree always gives the same bytes. */
export function createTar(entries: TarEntry[], opts: TarOptions = {}): Uint8Array {
  const sorted = [...entries].sort((a, b) => compareBytes(a.path, b.path));
  const chunks: Uint8Array[] = [];
  let total = 0;
  const push = (c: Uint8Array) => {
    chunks.push(c);
    total += c.length;
  };
  for (const entry of sorted) {
    for (const block of entryBlocks(entry, opts)) push(block);
  }
  push(new Uint8Array(BLOCK * 2)); // end-of-archive marker: two zero blocks
  const out = new Uint8Array(total);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.length;
  }
  return out;
}

function entryBlocks(entry: TarEntry, opts: TarOptions): Uint8Array[] {
  const name = entry.type === "dir" ? `${entry.path}/` : entry.path;
  const linkname = entry.type === "symlink" ? entry.target : "";
  const data = entry.type === "file" ? entry.data : new Uint8Array(0);
  const out: Uint8Array[] = [];

  const pax: Record<string, string> = {};
  const split = splitName(name);
  if (!split) pax.path = name;
  if (encoder.encode(linkname).length > 100) pax.linkpath = linkname;
  if (Object.keys(pax).length > 0) {
    const body = encoder.encode(
      Object.entries(pax)
        .map(([k, v]) => paxRecord(k, v))
        .join(""),
    );
    out.push(header({ name: paxName(name), size: body.length, type: "x", mode: 0o644, linkname: "" }, opts));
    out.push(...padded(body));
  }
  const fallback = split ?? { prefix: "", name: truncateBytes(name, 100) };
  out.push(
    header(
      {
        name: fallback.name,
        prefix: fallback.prefix,
        size: data.length,
        type: entry.type === "dir" ? "5" : entry.type === "symlink" ? "2" : "0",
        mode: entry.mode,
        linkname: pax.linkpath ? truncateBytes(linkname, 100) : linkname,
      },
      opts,
    ),
  );
  if (data.length > 0) out.push(...padded(data));
  return out;
}

interface HeaderFields {
  name: string;
  prefix?: string;
  size: number;
  type: string;
  mode: number;
  linkname: string;
}

function header(f: HeaderFields, opts: TarOptions): Uint8Array {
  const h = new Uint8Array(BLOCK);
  writeString(h, 0, 100, f.name);
  writeOctal(h, 100, 8, f.mode & 0o7777);
  writeOctal(h, 108, 8, opts.uid ?? 0);
  writeOctal(h, 116, 8, opts.gid ?? 0);
  writeOctal(h, 124, 12, f.size);
  writeOctal(h, 136, 12, opts.mtime ?? 0);
  h.fill(0x20, 148, 156); // checksum is computed with its own field as spaces
  writeString(h, 156, 1, f.type);
  writeString(h, 157, 100, f.linkname);
  writeString(h, 257, 6, "ustar"); // "ustar\0"
  writeString(h, 263, 2, "00");
  writeOctal(h, 329, 8, 0); // devmajor
  writeOctal(h, 337, 8, 0); // devminor
  writeString(h, 345, 155, f.prefix ?? "");
  let sum = 0;
  for (const b of h) sum += b;
  writeString(h, 148, 8, `${sum.toString(8).padStart(6, "0")}\0 `);
  return h;
}

/** ustar stores up to 255 bytes as prefix (155) + "/" + name (100); null when it does not fit. */
function splitName(name: string): { prefix: string; name: string } | null {
  const bytes = encoder.encode(name);
  if (bytes.length <= 100) return { prefix: "", name };
  if (bytes.length > 256) return null;
  for (let i = name.length - 1; i > 0; i--) {
    if (name[i] !== "/" || i === name.length - 1) continue;
    const prefix = name.slice(0, i);
    const rest = name.slice(i + 1);
    if (encoder.encode(prefix).length <= 155 && encoder.encode(rest).length <= 100 && rest.length > 0) {
      return { prefix, name: rest };
    }
  }
  return null;
}

function paxName(name: string): string {
  return truncateBytes(`PaxHeaders/${name.replace(/\/$/, "").split("/").pop() ?? "entry"}`, 100);
}

/** A pax record is "<len> key=value\n" where len counts itself. */
function paxRecord(key: string, value: string): string {
  const bodyLen = encoder.encode(` ${key}=${value}\n`).length;
  let len = bodyLen + String(bodyLen).length;
  while (String(len).length + bodyLen !== len) len = String(len).length + bodyLen;
  return `${len} ${key}=${value}\n`;
}

function padded(data: Uint8Array): Uint8Array[] {
  const rem = data.length % BLOCK;
  return rem === 0 ? [data] : [data, new Uint8Array(BLOCK - rem)];
}

function writeString(buf: Uint8Array, offset: number, length: number, value: string) {
  buf.set(encoder.encode(value).subarray(0, length), offset);
}

function writeOctal(buf: Uint8Array, offset: number, length: number, value: number) {
  writeString(buf, offset, length, `${value.toString(8).padStart(length - 1, "0")}\0`);
}

function truncateBytes(value: string, max: number): string {
  let out = value;
  while (encoder.encode(out).length > max) out = out.slice(0, -1);
  return out;
}

function compareBytes(a: string, b: string): number {
  // UTF-16 order; differs from UTF-8 byte order only for astral vs U+E000..U+FFFF, and is just as stable.
  return a < b ? -1 : a > b ? 1 : 0;
}
