/**
 * File paths inside a project: what a client may name, and where it lands on the volume. Every rule has its
 * own error code so a client learns exactly what to change. The rules alone keep a path inside the project's
 * folder (test/src/media/paths.test.ts checks that with fast-check); resolveInside re-checks anyway.
 * @module
 */
import { resolve, sep } from "node:path";

export const MAX_PATH_BYTES = 1024;
export const MAX_SEGMENT_BYTES = 255;

export type PathProblem =
  | "path_bad_encoding"
  | "path_empty"
  | "path_too_long"
  | "path_contains_nul"
  | "path_contains_control_character"
  | "path_contains_backslash"
  | "path_absolute"
  | "path_empty_segment"
  | "path_dot_segment"
  | "path_segment_too_long";

export type PathCheck = { ok: true; path: string } | { ok: false; code: PathProblem; message: string };

const encoder = new TextEncoder();
const byteLength = (s: string) => encoder.encode(s).byteLength;

/**
 * Decodes the percent-encoded tail of the URL, puts it in Unicode NFC, then checks it. One name per file: "é"
 * typed on most systems is U+00E9, but macOS file names and some keyboards give "e" + U+0301; both mean the
 * same name (canonical equivalence, Unicode UAX #15), so both reach the same row and the same bytes on disk.
 */
export function parseFilePath(rawFromUrl: string): PathCheck {
  let decoded: string;
  try {
    decoded = decodeURIComponent(rawFromUrl);
  } catch {
    return fail("path_bad_encoding", "the file path has invalid percent-encoding or is not UTF-8");
  }
  return checkFilePath(decoded.normalize("NFC"));
}

export function checkFilePath(path: string): PathCheck {
  if (path === "") return fail("path_empty", "the file path is empty; PUT /v1/projects/:id/files/<path>");
  if (byteLength(path) > MAX_PATH_BYTES)
    return fail("path_too_long", `the file path is longer than ${MAX_PATH_BYTES} bytes`);
  if (path.includes("\0")) return fail("path_contains_nul", "the file path contains a NUL character");
  // C0 controls, DEL and C1 controls: invisible in listings and a classic log/terminal injection vector.
  if (/[\u0001-\u001f\u007f-\u009f]/.test(path))
    return fail("path_contains_control_character", "the file path contains a control character");
  if (path.includes("\\"))
    return fail("path_contains_backslash", "the file path contains a backslash; separate folders with /");
  if (path.startsWith("/") || /^[A-Za-z]:/.test(path))
    return fail("path_absolute", "the file path must be relative to the project, without a leading / or drive letter");
  for (const segment of path.split("/")) {
    if (segment === "") return fail("path_empty_segment", "the file path has an empty segment (// or a trailing /)");
    if (segment === "." || segment === "..")
      return fail("path_dot_segment", "the file path contains a . or .. segment");
    if (byteLength(segment) > MAX_SEGMENT_BYTES)
      return fail("path_segment_too_long", `a segment of the file path is longer than ${MAX_SEGMENT_BYTES} bytes`);
  }
  return { ok: true, path };
}

/** The absolute location of a checked path; throws if it would escape the folder (it cannot, by the rules above). */
export function resolveInside(folder: string, path: string): string {
  const root = resolve(folder);
  const target = resolve(root, path);
  if (!target.startsWith(root + sep)) throw new Error(`path escapes its folder: ${JSON.stringify(path)}`);
  return target;
}

function fail(code: PathProblem, message: string): PathCheck {
  return { ok: false, code, message };
}
