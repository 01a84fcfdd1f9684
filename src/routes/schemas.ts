/**
 * Schemas shared by the route files: the error envelope every failure uses (so OpenAPI documents each
 * route's errors) and string rules that keep control characters, which PostgreSQL text refuses (NUL) or
 * which corrupt logs, out of stored fields.
 * @module
 */
import { t } from "elysia";

export const ErrorBody = t.Object(
  {
    error: t.Object({
      code: t.String({ description: "stable machine-readable code, e.g. not_found, validation_failed" }),
      message: t.String({ description: "what went wrong and how to fix it" }),
      request_id: t.String(),
      details: t.Optional(t.Unknown()),
    }),
  },
  { description: "every error has this shape" },
);

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: "malformed request (bad JSON, invalid UTF-8, unsafe file path)",
  401: "missing, invalid or expired bearer token",
  403: "forbidden",
  404: "not found (including resources owned by someone else)",
  409: "conflict with existing data",
  412: "a precondition (If-Match, If-None-Match) failed; details.etag is the current ETag or null",
  413: "request body too large",
  415: "unsupported content type",
  405: "the path exists but not with this method; Allow lists the methods it answers",
  416: "range not satisfiable",
  422: "the request did not match the schema; details lists each field",
  429: "rate limited; see Retry-After",
  503: "the service is not ready (database schema behind)",
};

/** `response` entries for the given error statuses, all with the shared envelope. */
export function errors(...statuses: number[]) {
  const out: Record<number, typeof ErrorBody> = {};
  for (const status of [...statuses, 429, 503]) {
    out[status] = t.Object(ErrorBody.properties, { description: ERROR_DESCRIPTIONS[status] ?? "error" });
  }
  return out;
}

/** Printable text: no C0 controls except tab/newline/carriage return, no DEL. */
export const SAFE_TEXT = "^[^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F]*$";
/** Single-line printable text. */
export const SAFE_LINE = "^[^\\u0000-\\u001F\\u007F]*$";

/** Ids are UUIDs; anything else cannot exist, so it is answered as not found without touching the database. */
export const ID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const pageQuery = (cursorPattern: string) =>
  t.Object(
    {
      limit: t.Optional(t.Integer({ minimum: 1, maximum: 100, default: 20, description: "page size, 1 to 100" })),
      cursor: t.Optional(
        t.String({ maxLength: 1100, pattern: cursorPattern, description: "next_cursor from the previous page" }),
      ),
    },
    { additionalProperties: false },
  );
/** A page whose cursor is checked by the route (a file path: src/routes/files.ts). */
export const PageQuery = pageQuery(SAFE_LINE);
/**
 * A page of rows keyed by id: the cursor is the last id seen, so anything but an id is a client's mistake (422
 * naming /cursor), not an empty page.
 */
export const IdPageQuery = pageQuery(ID_PATTERN.source);

export const BearerAuth = [{ bearerAuth: [] }];
