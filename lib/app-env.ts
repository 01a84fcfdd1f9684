/**
 * The environments the service runs in, how one is chosen when APP_ENV is unset, and the settings whose
 * default differs by environment without a place in lib/config.ts's table (kept out of that file, which the
 * size guard holds at its current length).
 * @module
 */

export type AppEnv = "development" | "test" | "preview" | "production";

/** `bun test` sets NODE_ENV=test; the embedded default otherwise is development. */
export function defaultAppEnv(env: Record<string, string | undefined>): AppEnv {
  return env.NODE_ENV === "test" ? "test" : "development";
}

/**
 * AUTH_RATE_LIMIT_PER_MINUTE's default. Five a minute guards passwords on the internet (previews are public
 * too); a developer logging in again after each restart, or a frontend's hot reload, hits five at once on
 * localhost. Tests keep five so the limit's own tests see the production figure.
 */
export const AUTH_LIMIT_DEFAULT: Record<AppEnv, number> = { development: 60, test: 5, preview: 5, production: 5 };
