/**
 * The service's one error type: handlers throw (or return) an HttpError and the errors plugin renders it as
 * `{"error": {"code", "message", "request_id", "details"?}}` with its status.
 * @module
 */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
    readonly headers?: Record<string, string>,
  ) {
    super(message);
    this.name = "HttpError";
  }
}

export const notFound = (what = "resource") => new HttpError(404, "not_found", `${what} not found`);
export const badRequest = (code: string, message: string, details?: unknown) =>
  new HttpError(400, code, message, details);
export const conflict = (message: string) => new HttpError(409, "conflict", message);
export const unauthorized = (message = "missing or invalid credentials") =>
  new HttpError(401, "unauthorized", message, undefined, { "www-authenticate": 'Bearer realm="flightdeck"' });
export const forbidden = (code: string, message: string) => new HttpError(403, code, message);
/** One field failed a check the schema cannot express: the same 422 as a schema failure, naming the field. */
export const invalidField = (field: string, message: string) =>
  new HttpError(422, "validation_failed", "the request did not match the expected schema", [{ field, message }]);
