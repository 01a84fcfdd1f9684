/**
 * The conditional and partial parts of the file routes: strong ETags from the sha256, the preconditions of
 * RFC 9110 section 13.1 (If-Match, If-None-Match, If-Range) and a single byte range (RFC 9110 section 14.2).
 * Pure functions, no I/O: the routes decide what a failed precondition means (412, 304, or the whole file).
 * @module
 */

export const etagOf = (sha256: string) => `"${sha256}"`;

interface EntityTag {
  weak: boolean;
  /** The opaque tag with its quotes, as etagOf writes it. */
  tag: string;
}

/** RFC 9110 section 8.8.3: entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE; etagc excludes DQUOTE, controls and space. */
const ENTITY_TAG = /^\s*(W\/)?("[\x21\x23-\x7e\x80-\xff]*")\s*(?:,|$)/;

/**
 * `*`, or the list of entity tags in an If-Match / If-None-Match value. A value that is neither (a bare word,
 * a missing quote) is undefined: RFC 9110 gives it no meaning, and the callers treat it as matching nothing.
 */
export function parseEtagList(header: string): "*" | EntityTag[] | undefined {
  if (header.trim() === "*") return "*";
  const tags: EntityTag[] = [];
  let rest = header;
  while (rest.trim() !== "") {
    // Empty list elements (", ,") are allowed by the list syntax (RFC 9110 section 5.6.1).
    const empty = /^\s*,/.exec(rest);
    if (empty) {
      rest = rest.slice(empty[0].length);
      continue;
    }
    const match = ENTITY_TAG.exec(rest);
    if (!match) return undefined;
    tags.push({ weak: match[1] !== undefined, tag: match[2] as string });
    rest = rest.slice(match[0].length);
  }
  return tags;
}

/** If-None-Match uses weak comparison, so W/"x" matches "x"; `*` matches any existing file. */
export function noneMatch(header: string | null, etag: string): boolean {
  if (!header) return false;
  const list = parseEtagList(header);
  if (list === undefined) return false;
  return list === "*" || list.some((candidate) => candidate.tag === etag);
}

/**
 * If-Match (RFC 9110 section 13.1.1) uses strong comparison: a weak tag never matches, and with no current file
 * (etag undefined) nothing matches, not even `*`. True means the request may go on.
 */
export function ifMatchPasses(header: string | null | undefined, etag: string | undefined): boolean {
  if (header === null || header === undefined) return true;
  if (etag === undefined) return false;
  const list = parseEtagList(header);
  if (list === undefined) return false;
  return list === "*" || list.some((candidate) => !candidate.weak && candidate.tag === etag);
}

/**
 * If-None-Match on a write (RFC 9110 section 13.1.2): `*` fails when any file exists (create-only), a list
 * fails when one tag matches the current file's (weak comparison). True means the request may go on.
 */
export function ifNoneMatchPasses(header: string | null | undefined, etag: string | undefined): boolean {
  if (header === null || header === undefined) return true;
  if (etag === undefined) return true;
  return !noneMatch(header, etag);
}

/**
 * If-Range (RFC 9110 section 13.1.5): the range applies only while the validator still describes the file. An
 * entity tag must match strongly; a date would be compared with Last-Modified, which these routes do not send,
 * so a date never matches and the whole file is sent, as it is for anything unparseable.
 */
export function ifRangeHolds(header: string | null | undefined, etag: string): boolean {
  if (header === null || header === undefined) return true;
  const list = parseEtagList(header);
  if (list === undefined || list === "*" || list.length !== 1) return false;
  const [candidate] = list;
  return candidate !== undefined && !candidate.weak && candidate.tag === etag;
}

export type RangeResult =
  | { kind: "full" }
  | { kind: "partial"; start: number; end: number }
  | { kind: "unsatisfiable" };

/**
 * `bytes=a-b`, `bytes=a-` and `bytes=-n`. Several ranges, other units or syntax errors are ignored and the
 * whole file is sent, which RFC 9110 allows ("a server MAY ignore the Range header field").
 */
export function parseRange(header: string | null, size: number): RangeResult {
  if (!header) return { kind: "full" };
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match) return { kind: "full" };
  const [, first = "", last = ""] = match;
  if (first === "" && last === "") return { kind: "full" };
  if (first === "") {
    const suffix = Number(last);
    if (suffix === 0 || size === 0) return { kind: "unsatisfiable" };
    return { kind: "partial", start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(first);
  if (!Number.isSafeInteger(start) || start >= size) return { kind: "unsatisfiable" };
  const end = last === "" ? size - 1 : Math.min(Number(last), size - 1);
  if (end < start) return { kind: "full" };
  return { kind: "partial", start, end };
}
