/**
 * One truth for the schema: once /health has seen the schema catch up, the API serves at once, rather than
 * answering 503 schema_behind from an older verdict of its own (issue 23: about 5 s of disagreement).
 * A real SQLite database, migrated while the app runs; the gate's clock is moved past its recheck interval.
 */
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createApp } from "../../../src/app.ts";
import { openDatabase } from "../../../src/db/database.ts";
import { createSchemaGate } from "../../../src/db/schema-gate.ts";
import { testConfig } from "../../support/app.ts";

const dir = mkdtempSync(join(tmpdir(), "flightdeck-schema-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test("/health and the API agree the moment the schema catches up", async () => {
  const config = testConfig({ DATABASE_URL: `sqlite:${join(dir, "db.sqlite")}`, MEDIA_DIR: join(dir, "media") });
  const db = await openDatabase(config);
  let now = 1_000_000;
  const schema = createSchemaGate(db, 5000, () => now);
  const app = createApp(config, { db, schema });
  const get = (path: string) => app.handle(new Request(`http://localhost${path}`));
  try {
    expect((await get("/health")).status).toBe(503);
    const behind = await get("/v1/projects");
    expect(behind.status).toBe(503);
    expect(((await behind.json()) as { error: { code: string } }).error.code).toBe("schema_behind");

    await db.migrate();
    now += 6000;
    const health = await get("/health");
    expect(health.status).toBe(200);
    expect(((await health.json()) as { db: { schema_up_to_date: boolean } }).db.schema_up_to_date).toBe(true);
    // The very next request: past the guard (401, no credentials), not 503 schema_behind.
    expect((await get("/v1/projects")).status).toBe(401);
  } finally {
    await db.close();
  }
});
