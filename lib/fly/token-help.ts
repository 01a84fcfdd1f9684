/**
 * Where a user gets a FLY_API_TOKEN without flyctl (DESIGN.md: no message sends a user to flyctl). The one
 * token made by hand is an organization token, in the Fly dashboard; everything after it is a Flightdeck
 * command (`token create` makes the app-scoped deploy token CI keeps as its FLY_API_TOKEN secret).
 * @module
 */

export const DASHBOARD_TOKENS = "the Fly dashboard (https://fly.io/dashboard, Tokens)";

/** How to get a token: one sentence, for a missing or rejected FLY_API_TOKEN. */
export const TOKEN_HELP = `make an organization token in ${DASHBOARD_TOKENS} and export it as FLY_API_TOKEN; for CI, \`bun deploy/run.ts token create\` then makes an app-scoped deploy token`;
