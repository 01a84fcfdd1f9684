/**
 * GET /metrics in the Prometheus text format. With METRICS_TOKEN set it requires
 * `Authorization: Bearer <token>` (Fly's metrics scraper can send it, see fly.toml [metrics]); without it the
 * endpoint is open, which suits a private network or local runs.
 * @module
 */
import { timingSafeEqual } from "node:crypto";
import { Elysia, t } from "elysia";
import { unauthorized } from "../errors.ts";
import type { Metrics } from "../plugins/metrics.ts";
import { errors } from "./schemas.ts";

export function metricsRoutes(metrics: Metrics, token: string | undefined) {
  const expected = token === undefined ? undefined : Buffer.from(`Bearer ${token}`);
  return new Elysia({ name: "metrics-routes" }).get(
    "/metrics",
    async ({ headers, set }) => {
      if (expected) {
        const given = Buffer.from(headers.authorization ?? "");
        if (given.length !== expected.length || !timingSafeEqual(given, expected))
          throw unauthorized("send Authorization: Bearer <METRICS_TOKEN>");
      }
      const { contentType, body } = await metrics.render();
      set.headers["content-type"] = contentType;
      set.headers["cache-control"] = "no-store";
      return body;
    },
    {
      response: { 200: t.String({ description: "Prometheus text exposition format" }), ...errors(401) },
      detail: {
        summary: "Prometheus metrics (bearer METRICS_TOKEN when configured)",
        tags: ["ops"],
        operationId: "getMetrics",
      },
    },
  );
}
