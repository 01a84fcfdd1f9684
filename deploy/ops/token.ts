// `token create [--expiry 720h]`: an app-scoped deploy token (POST /v1/apps/{app}/deploy_token), what
// `fly tokens create deploy` makes, for the production environment's FLY_API_TOKEN_PRODUCTION secret (the name
// .github/workflows/deploy-production.yml reads; the repository's FLY_API_TOKEN is the previews' organization
// token). It is printed once: alone on stdout (so `... | gh secret set FLY_API_TOKEN_PRODUCTION --env production`
// works), or in the `token` field with --json; never on stderr, never
// in an error. Fly cannot show it again, so it is tried once before it is shown.

import { createFlyClient } from "../../lib/fly/client.ts";
import { isFlyApiError } from "../../lib/fly/errors.ts";
import type { CommandContext } from "./context.ts";
import { flyClient, loadConfig } from "./context.ts";
import { DeployError, usageError } from "../deploy-error.ts";
import { formatGoDuration, parseGoDuration } from "../config/durations.ts";

/** 30 days: long enough for CI, short enough that a leaked token dies on its own (flyctl's default is 20 years). */
export const DEFAULT_TOKEN_EXPIRY = "720h";

export async function tokenCommand(ctx: CommandContext) {
  if (ctx.args.positionals.length > 0)
    throw usageError(`unexpected argument "${ctx.args.positionals[0]}" for "token create"`);
  const expiryText = typeof ctx.args.flags.expiry === "string" ? ctx.args.flags.expiry : DEFAULT_TOKEN_EXPIRY;
  const expiryMs = parseGoDuration(expiryText);
  if (expiryMs === null || expiryMs < 60_000)
    throw usageError(`--expiry must be a duration of at least 1m such as 720h or 8760h (got "${expiryText}")`);
  const config = await loadConfig(ctx.args, ctx.output);
  const client = flyClient(ctx.io);
  const app = config.app;
  try {
    await client.getApp(app, { signal: ctx.io.signal });
  } catch (error) {
    if (!(isFlyApiError(error) && error.status === 404)) throw error;
    throw new DeployError(
      "preflight_failed",
      `app ${app} does not exist yet: run \`bun run deploy\` first (a deploy token belongs to an existing app); nothing was changed`,
      2,
    );
  }
  const expiry = formatGoDuration(expiryMs);
  ctx.output.step(`creating a deploy token for ${app}, valid for ${expiry}`);
  const { token } = await client.createDeployToken(app, { expiry, signal: ctx.io.signal });
  await proveToken(ctx, client.baseUrl, token, app);
  const expiresAt = new Date(Date.now() + expiryMs).toISOString();
  if (!ctx.output.json) {
    ctx.io.stdout(`${token}\n`);
    ctx.output.step(
      `store it as the production environment's GitHub secret FLY_API_TOKEN_PRODUCTION (e.g. pipe this command into \`gh secret set FLY_API_TOKEN_PRODUCTION --env production\`); it is shown only this once and expires ${expiresAt}`,
    );
  }
  return { app, token, expiry, expiresAt };
}

/**
 * Exit 0 is a promise: the new token is used once (GET /v1/apps/{app}) before it is handed out. A token Fly
 * refuses is never printed: the run fails and can simply be repeated.
 */
async function proveToken(ctx: CommandContext, baseUrl: string, token: string, app: string): Promise<void> {
  const scoped = createFlyClient({ baseUrl, token, env: {} });
  try {
    await scoped.getApp(app, { signal: ctx.io.signal });
  } catch (error) {
    const why = isFlyApiError(error)
      ? `status ${error.status}${error.apiMessage ? `: ${error.apiMessage}` : ""}`
      : error instanceof Error
        ? error.message
        : String(error);
    throw new DeployError(
      "api_error",
      `Fly created a deploy token for ${app} but did not accept it on a first call (${why}); it was not printed. Run token create again.`,
      1,
    );
  }
}
