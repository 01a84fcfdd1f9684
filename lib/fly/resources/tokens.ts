/**
 * Deploy tokens scoped to one app (what `fly tokens create deploy` mints). The reply is a credential: parsed,
 * never quoted.
 * @module
 */

import { parseCredentialReply } from "../credential-reply.ts";
import { ROUTES } from "../routes.ts";
import { expandPath } from "../transport.ts";
import { appParams, type Caller } from "./call.ts";

export function tokensApi({ call }: Caller) {
  return {
    /**
     * Mints a deploy token limited to this app (what `fly tokens create deploy` makes). `expiry` is a Go
     * duration ("720h"). The reply is parsed without ever being quoted: it is the token.
     */
    async createDeployToken(
      appName: string,
      opts: { expiry?: string; signal?: AbortSignal } = {},
    ): Promise<{ token: string }> {
      const params = appParams(appName);
      const reply = await call("createDeployToken", {
        params,
        body: opts.expiry ? { expiry: opts.expiry } : {},
        replay: "unsafe",
        signal: opts.signal,
      });
      return parseCredentialReply(
        reply,
        { method: "POST", path: expandPath(ROUTES.createDeployToken[1], params) },
        (body) => {
          const token = (body as { token?: unknown } | null)?.token;
          return typeof token === "string" && token.trim() !== "" ? { token } : undefined;
        },
      );
    },
  };
}
