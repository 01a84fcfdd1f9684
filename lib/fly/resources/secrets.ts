/**
 * App secrets over the Machines API (flyctl since PR #4535): list, bulk set/unset, one by one, read. Every write
 * answers with the secrets version to pass as `min_secrets_version` on the next machine create or update.
 * @module
 */

import { parseCredentialReply } from "../credential-reply.ts";
import { FlyApiError, isFlyApiError } from "../errors.ts";
import { ROUTES, type RouteName } from "../routes.ts";
import { expandPath, type Reply } from "../transport.ts";
import type { AppSecret } from "../types.ts";
import { appParams, type Caller, safeExpand } from "./call.ts";

export interface SecretsWriteResult {
  secrets: AppSecret[];
  /** Secrets version after the write: pass it as `min_secrets_version` on the next machine create/update. */
  version: number;
}

export function secretsApi({ call, callJson }: Caller) {
  return {
    /** Names and digests (values only with `showSecrets`). `minVersion` is the spec's `min_version` filter. */
    async listSecrets(
      appName: string,
      opts: { minVersion?: number; showSecrets?: boolean; signal?: AbortSignal } = {},
    ): Promise<AppSecret[]> {
      const body = await callJson<{ secrets?: AppSecret[] }>("listSecrets", {
        params: appParams(appName),
        query: { min_version: opts.minVersion, show_secrets: opts.showSecrets || undefined },
        signal: opts.signal,
      });
      return body.secrets ?? [];
    },

    /** Sets several secrets in one write. Replaying re-sets the same values (harmless; the version moves on). */
    async setSecrets(
      appName: string,
      values: Record<string, string>,
      opts: { signal?: AbortSignal } = {},
    ): Promise<SecretsWriteResult> {
      return secretsWrite(
        await callJson<unknown>("updateSecrets", { params: appParams(appName), body: { values }, signal: opts.signal }),
        appName,
      );
    },

    /** Unsets several secrets in one write: flyctl sends `null` values for the names to remove. */
    async unsetSecrets(
      appName: string,
      names: readonly string[],
      opts: { signal?: AbortSignal } = {},
    ): Promise<SecretsWriteResult> {
      const values = Object.fromEntries(names.map((name) => [name, null]));
      return secretsWrite(
        await callJson<unknown>("updateSecrets", { params: appParams(appName), body: { values }, signal: opts.signal }),
        appName,
      );
    },

    async setSecret(
      appName: string,
      name: string,
      value: string,
      opts: { signal?: AbortSignal } = {},
    ): Promise<{ version: number }> {
      const body = await callJson<{ version?: number; Version?: number }>("setSecret", {
        params: { app_name: appName, secret_name: name },
        body: { value },
        signal: opts.signal,
      });
      return { version: requireVersion(body, "setSecret", appName) };
    },

    async unsetSecret(
      appName: string,
      name: string,
      opts: { signal?: AbortSignal } = {},
    ): Promise<{ version: number }> {
      const body = await callJson<{ version?: number; Version?: number }>("unsetSecret", {
        params: { app_name: appName, secret_name: name },
        signal: opts.signal,
      });
      return { version: requireVersion(body, "unsetSecret", appName) };
    },

    /**
     * One secret, or undefined when it does not exist (404). With `showSecrets` its value comes too: parsed
     * without ever being quoted in an error, kept by the caller in memory only (db attach compares with it).
     */
    async getSecret(
      appName: string,
      name: string,
      opts: { showSecrets?: boolean; signal?: AbortSignal } = {},
    ): Promise<AppSecret | undefined> {
      const params = { app_name: appName, secret_name: name };
      let reply: Reply;
      try {
        reply = await call("getSecret", {
          params,
          query: { show_secrets: opts.showSecrets || undefined },
          signal: opts.signal,
        });
      } catch (error) {
        if (isFlyApiError(error) && error.status === 404) return undefined;
        throw error;
      }
      return parseCredentialReply(reply, { method: "GET", path: expandPath(ROUTES.getSecret[1], params) }, (body) =>
        body && typeof body === "object" && (body as AppSecret).name === name ? (body as AppSecret) : undefined,
      );
    },
  };
}

function secretsWrite(body: unknown, appName: string): SecretsWriteResult {
  const record = (body ?? {}) as { secrets?: AppSecret[]; version?: number; Version?: number };
  return { secrets: record.secrets ?? [], version: requireVersion(record, "updateSecrets", appName) };
}

function requireVersion(body: { version?: number; Version?: number }, route: RouteName, appName: string): number {
  // `Version` is the deprecated capitalised twin the spec still lists; accept either.
  const version = body.version ?? body.Version;
  if (typeof version === "number") return version;
  const [method, template] = ROUTES[route];
  throw new FlyApiError({
    code: "invalid_response",
    method,
    path: safeExpand(template, { app_name: appName, secret_name: "_" }),
    status: 200,
    apiMessage: "secrets response has no version",
  });
}
