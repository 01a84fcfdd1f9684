/**
 * CORS from ALLOWED_ORIGINS through @elysiajs/cors. Only listed origins get Access-Control-Allow-Origin;
 * `*` (refused in production by lib/config.ts) allows any origin without credentials. Credentials stay off:
 * the API authenticates with bearer tokens, never cookies.
 * @module
 */
import { cors as elysiaCors } from "@elysiajs/cors";

export function cors(allowedOrigins: string[]) {
  return elysiaCors({
    origin: allowedOrigins.includes("*") ? "*" : allowedOrigins,
    methods: ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
    allowedHeaders: ["authorization", "content-type", "if-none-match", "range", "x-request-id"],
    exposeHeaders: ["etag", "content-range", "location", "retry-after", "ratelimit-limit", "ratelimit-remaining", "ratelimit-reset", "x-request-id"],
    credentials: false,
    maxAge: 600,
  });
}
