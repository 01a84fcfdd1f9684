/**
 * The body parser for JSON routes. Elysia's default parser would accept any content type, silently replace
 * invalid UTF-8 with U+FFFD and read bodies of any size; this one answers 415, 400 and 413 instead, so bad
 * input is rejected with a reason before validation, and nothing malformed reaches the database.
 * @module
 */
import { badRequest, HttpError } from "../errors.ts";

/** JSON bodies here are small records; file content goes through the streaming files route instead. */
export const MAX_JSON_BODY_BYTES = 64 * 1024;
/**
 * No route takes more than a couple of levels; the cap matters because validating a deeply nested body
 * against an object schema costs Elysia seconds (measured: 20,000 nested arrays took 4.6 s), a cheap DoS.
 */
export const MAX_JSON_DEPTH = 16;
const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * The parsers jsonBody made. A function parser hides the media type from @elysiajs/openapi (it documents only
 * named parsers), so src/plugins/openapi.ts looks them up here to document their routes' bodies as JSON.
 */
const jsonParsers = new WeakSet<object>();

export function isJsonBodyParser(parser: unknown): boolean {
  return typeof parser === "function" && jsonParsers.has(parser);
}

export function jsonBody(maxBytes = MAX_JSON_BODY_BYTES) {
  const parser = async function jsonBody({ request, contentType }: { request: Request; contentType: string }) {
    const mediaType = (contentType ?? "").split(";")[0]?.trim().toLowerCase();
    if (mediaType !== "application/json") {
      throw new HttpError(415, "unsupported_media_type", "send the body as JSON with content-type: application/json");
    }
    const bytes = await readLimited(request, maxBytes);
    let text: string;
    try {
      text = strictUtf8.decode(bytes);
    } catch {
      throw badRequest("invalid_utf8", "the request body is not valid UTF-8");
    }
    if (text.trim() === "") throw badRequest("malformed_body", "the request body is empty; send a JSON object");
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      throw badRequest(
        "malformed_body",
        "the request body could not be parsed; send valid JSON with content-type application/json",
      );
    }
    if (depthExceeds(value, MAX_JSON_DEPTH)) {
      throw badRequest("body_too_deep", `the JSON body is nested more than ${MAX_JSON_DEPTH} levels deep`);
    }
    return value;
  };
  jsonParsers.add(parser);
  return parser;
}

export function payloadTooLarge(maxBytes: number): HttpError {
  return new HttpError(413, "payload_too_large", `the request body is larger than the limit of ${maxBytes} bytes`, {
    max_bytes: maxBytes,
  });
}

/** Reads at most maxBytes, refusing early on a declared Content-Length and again while counting (chunked bodies). */
export async function readLimited(request: Request, maxBytes: number): Promise<Uint8Array> {
  const declared = Number(request.headers.get("content-length") ?? "0");
  if (declared > maxBytes) throw payloadTooLarge(maxBytes);
  if (!request.body) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of request.body) {
    total += chunk.byteLength;
    if (total > maxBytes) throw payloadTooLarge(maxBytes);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

function depthExceeds(value: unknown, remaining: number): boolean {
  if (value === null || typeof value !== "object") return false;
  if (remaining === 0) return true;
  for (const item of Array.isArray(value) ? value : Object.values(value)) {
    if (depthExceeds(item, remaining - 1)) return true;
  }
  return false;
}
