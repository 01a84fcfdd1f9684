/**
 * Builds the real app on a real database for `app.handle` tests, on either dialect.
 * @module
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Config, loadConfig } from "../../lib/config.ts";
import { createApp, type AppDeps } from "../../src/app.ts";
import { type Database, openDatabase } from "../../src/db/database.ts";
import { createScratchDatabase, type ScratchDatabase } from "./postgres.ts";

export type TestDialect = "sqlite" | "postgres";

export interface TestApp {
  app: ReturnType<typeof createApp>;
  config: Config;
  db: Database;
  mediaDir: string;
  request(path: string, init?: RequestInit): Promise<Response>;
  close(): Promise<void>;
}

export function testConfig(env: Record<string, string> = {}): Config {
  const loaded = loadConfig({ APP_ENV: "test", ...env });
  if (!loaded.ok) throw loaded.error;
  return loaded.config;
}

/** A fresh app on a fresh database of the given dialect, with migrations applied and its own media folder. */
export async function createTestApp(
  dialect: TestDialect,
  env: Record<string, string> = {},
  deps: Partial<AppDeps> = {},
): Promise<TestApp> {
  const mediaDir = mkdtempSync(join(tmpdir(), "flightdeck-media-"));
  let scratch: ScratchDatabase | undefined;
  let databaseUrl = "sqlite::memory:";
  if (dialect === "postgres") {
    scratch = await createScratchDatabase("app");
    databaseUrl = scratch.url;
  }
  const config = testConfig({ DATABASE_URL: databaseUrl, MEDIA_DIR: mediaDir, ...env });
  const db = await openDatabase(config);
  await db.migrate();
  const app = createApp(config, { db, ...deps });
  return {
    app,
    config,
    db,
    mediaDir,
    request: (path, init) => app.handle(new Request(`http://localhost${path}`, init)),
    async close() {
      await db.close();
      await scratch?.drop();
      rmSync(mediaDir, { recursive: true, force: true });
    },
  };
}

/** Response bodies in tests are asserted structurally, so they are read as `any`. */
export const json = (res: Response): Promise<any> => res.json();
