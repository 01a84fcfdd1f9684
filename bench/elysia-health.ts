/**
 * Ceiling peer for `bun run bench`: a bare Elysia app on the same Bun answering /health/live with the same
 * JSON and nothing else (no request id, log, headers, CORS, rate limit or metrics). Flightdeck is quoted as a
 * percentage of it: what our middleware costs on top of the framework.
 * @module
 */
import { Elysia } from "elysia";

new Elysia()
  .get("/health/live", () => ({ status: "ok" }))
  .get("/health", () => ({ status: "ok" }))
  .listen({ port: Number(process.env.PORT), hostname: "127.0.0.1" });
