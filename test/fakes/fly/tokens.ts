// POST /v1/apps/{app}/deploy_token (App_create_deploy_token): mints a token that works for that app only, as a
// Fly deploy token does. The fake then accepts it on `/v1/apps/<that app>/…` and refuses it (401) everywhere
// else, so a test can prove that what CI gets is enough for CI's job and no more.

import { parseGoDuration } from "../../../deploy/config/durations.ts";
import { HttpError, json, validBody, type FakeContext } from "./context.ts";
import type { Route } from "./router.ts";
import { randomHex } from "./state.ts";

export interface FakeDeployToken {
  app: string;
  expiresAt: number;
}

/** Minted deploy tokens (scheme-less token -> app, expiry), and a fault: tokens Fly hands out but refuses. */
export interface FakeDeployTokens {
  tokens: Map<string, FakeDeployToken>;
  /** When true, a minted token is answered but never accepted (as if Fly had not registered it). */
  mintUnusable: boolean;
}

export function createDeployTokens(): FakeDeployTokens {
  return { tokens: new Map(), mintUnusable: false };
}

/** flyctl's default for `tokens create deploy`: 20 years (175200h). */
const DEFAULT_EXPIRY_MS = 175_200 * 3_600_000;

export function tokenRoutes(ctx: FakeContext, deployTokens: FakeDeployTokens): Route[] {
  return [
    {
      method: "POST",
      path: "/v1/apps/:app/deploy_token",
      handle: ({ app, body }) => {
        const input = validBody<{ expiry?: string }>(ctx, "CreateAppDeployTokenRequest", body);
        const expiryMs =
          input.expiry === undefined || input.expiry === "" ? DEFAULT_EXPIRY_MS : parseGoDuration(input.expiry);
        if (expiryMs === null || expiryMs <= 0)
          throw new HttpError(400, `invalid expiry "${input.expiry}": a duration such as 720h`);
        const token = `fm2_deploy${randomHex(48)}`;
        if (!deployTokens.mintUnusable)
          deployTokens.tokens.set(token, { app: app!.name, expiresAt: Date.now() + expiryMs });
        // Printed with its scheme, as `fly tokens create` prints tokens.
        return json({ token: `FlyV1 ${token}` });
      },
    },
  ];
}

/** Whether a deploy token may make this call: its own app's paths only, until it expires. */
export function deployTokenAllows(deployTokens: FakeDeployTokens, token: string, path: string): boolean {
  const found = deployTokens.tokens.get(token);
  if (!found || found.expiresAt <= Date.now()) return false;
  const prefix = `/v1/apps/${found.app}`;
  return path === prefix || path.startsWith(`${prefix}/`);
}
