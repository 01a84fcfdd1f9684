// /v1/apps/{app}/secrets (Machines API secrets, flyctl since PR #4535): names + digests, values only with
// show_secrets; every write moves the app's secrets version on by one, and that version is what
// `min_secrets_version` on machine create/update refers to (flyctl-behaviours.md §4.2).

import type { AppSecretsUpdateRequest } from "../../../lib/fly/types.ts";
import { HttpError, json, validBody, type FakeContext } from "./context.ts";
import type { Route } from "./router.ts";
import { nowIso, secretDigest, secretView, type FakeApp } from "./state.ts";

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

function checkName(name: string): void {
  if (!NAME.test(name))
    throw new HttpError(
      400,
      `invalid secret name "${name}": letters, digits and underscores, not starting with a digit`,
    );
}

function put(app: FakeApp, name: string, value: string): void {
  const at = nowIso();
  const existing = app.secrets.get(name);
  app.secrets.set(name, {
    name,
    value,
    digest: secretDigest(value),
    created_at: existing?.created_at ?? at,
    updated_at: at,
  });
}

function list(app: FakeApp, showValues: boolean) {
  return [...app.secrets.values()].sort((a, b) => a.name.localeCompare(b.name)).map((s) => secretView(s, showValues));
}

export function secretRoutes(ctx: FakeContext): Route[] {
  const base = "/v1/apps/:app/secrets";
  return [
    {
      method: "GET",
      path: base,
      handle: ({ app, query }) => json({ secrets: list(app!, query.get("show_secrets") === "true") }),
    },
    {
      method: "POST",
      path: base,
      handle: ({ app, body }) => {
        const a = app!;
        const input = validBody<AppSecretsUpdateRequest>(ctx, "AppSecretsUpdateRequest", body);
        const values = (input.values ?? {}) as Record<string, string | null>;
        for (const name of Object.keys(values)) checkName(name);
        for (const [name, value] of Object.entries(values)) {
          if (value === null) a.secrets.delete(name);
          else put(a, name, value);
        }
        a.secretsVersion += 1;
        return json({ secrets: list(a, false), version: a.secretsVersion, Version: a.secretsVersion });
      },
    },
    {
      method: "GET",
      path: `${base}/:name`,
      handle: ({ app, params, query }) => {
        const secret = app!.secrets.get(params.name!);
        if (!secret) throw new HttpError(404, `secret not found: ${params.name}`);
        return json(secretView(secret, query.get("show_secrets") === "true"));
      },
    },
    {
      method: "POST",
      path: `${base}/:name`,
      handle: ({ app, params, body }) => {
        const a = app!;
        checkName(params.name!);
        const input = validBody<{ value?: string }>(ctx, "SetAppSecretRequest", body);
        if (input.value === undefined) throw new HttpError(400, "value is required");
        put(a, params.name!, input.value);
        a.secretsVersion += 1;
        return json(
          { ...secretView(a.secrets.get(params.name!)!, false), version: a.secretsVersion, Version: a.secretsVersion },
          201,
        );
      },
    },
    {
      method: "DELETE",
      path: `${base}/:name`,
      handle: ({ app, params }) => {
        const a = app!;
        if (!a.secrets.delete(params.name!)) throw new HttpError(404, `secret not found: ${params.name}`);
        a.secretsVersion += 1;
        return json({ version: a.secretsVersion, Version: a.secretsVersion });
      },
    },
  ];
}
