/**
 * `GET /health` (Fly's check, see fly.toml) and `GET /health/live` (process liveness, no database).
 * Health never throws: every probe's failure becomes part of the answer, and a 503.
 * @module
 */
import { access, constants } from "node:fs/promises";
import { Elysia } from "elysia";
import type { Config } from "../../lib/config.ts";
import type { Database } from "../db/database.ts";
import type { SchemaGate } from "../db/schema-gate.ts";
import { volumeSpace } from "../media/space.ts";
import type { Volume } from "../media/volume.ts";

export interface HealthDeps {
  db: Pick<Database, "ping" | "dialect">;
  schema: SchemaGate;
  /** This machine's volume: its identity is reported once registered (the server registers it at boot). */
  volume?: Pick<Volume, "current" | "mountProblem">;
  startedAt: number;
}

export function healthRoutes(config: Config, deps: HealthDeps) {
  return new Elysia({ name: "health" })
    .get("/health/live", () => ({ status: "ok" }), {
      detail: { summary: "Liveness: the process answers", tags: ["health"], operationId: "liveness" },
    })
    .get(
      "/health",
      async ({ set }) => {
        const [db, mediaWritable, schema, space, volumeMissing] = await Promise.all([
          deps.db.ping(),
          isWritable(config.mediaDir),
          deps.schema.status(),
          volumeSpace(config.mediaDir),
          deps.volume?.mountProblem(),
        ]);
        // A production machine without its volume is not ready: Fly must not route uploads to it.
        const healthy = db.ok && schema.upToDate && volumeMissing === undefined;
        set.status = healthy ? 200 : 503;
        set.headers["cache-control"] = "no-store";
        return {
          status: healthy ? "ok" : "unavailable",
          ...(healthy
            ? {}
            : {
                reason: !db.ok
                  ? `database unavailable: ${db.error}`
                  : !schema.upToDate
                    ? schema.reason
                    : `volume missing: ${volumeMissing}`,
              }),
          db: { ok: db.ok, dialect: deps.db.dialect, latency_ms: db.latencyMs, schema_up_to_date: schema.upToDate },
          // A low volume does not fail the check: reads still work, and Fly would stop routing to the machine.
          media: {
            writable: mediaWritable,
            volume_id: deps.volume?.current()?.id ?? null,
            volume_missing: volumeMissing ?? null,
            free_bytes: space?.freeBytes ?? null,
            size_bytes: space?.totalBytes ?? null,
            low_space: space?.lowSpace ?? null,
          },
          app: config.fly.appName ?? "flightdeck",
          region: config.fly.region ?? "local",
          machine: config.fly.machineId ?? "local",
          version: config.appVersion,
          uptime_s: Math.round((Date.now() - deps.startedAt) / 1000),
        };
      },
      {
        detail: { summary: "Readiness: database, schema and media volume", tags: ["health"], operationId: "readiness" },
      },
    );
}

async function isWritable(dir: string): Promise<boolean> {
  try {
    await access(dir, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}
