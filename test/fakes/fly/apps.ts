// /v1/apps: create (name or app_name per FakeOptions.appNameField, + org_slug, 422 name_taken, idempotency_key replays), show, list, delete (takes every
// machine, volume, IP and secret with it, as deleting a Fly app does; with faults.lingerAfterDelete the app
// stays readable after the 202, as Fly's asynchronous delete leaves it).

import type { App, CreateAppRequest } from "../../../lib/fly/types.ts";
import { empty, HttpError, json, requireApp, validBody, type FakeContext } from "./context.ts";
import type { Route } from "./router.ts";
import { randomHex, type FakeApp } from "./state.ts";

export function appView(app: FakeApp): App {
  const live = [...app.machines.values()].filter((m) => m.state !== "destroyed");
  return {
    id: app.id,
    name: app.name,
    status: app.deployed ? "deployed" : "pending",
    network: app.network,
    organization: { name: app.orgSlug, slug: app.orgSlug },
    machine_count: live.length,
    volume_count: [...app.volumes.values()].filter((v) => v.state !== "destroyed").length,
  };
}

export function createAppRecord(name: string, orgSlug: string, network = "default"): FakeApp {
  return {
    id: randomHex(12),
    name,
    orgSlug,
    network,
    createdAt: Date.now(),
    machines: new Map(),
    volumes: new Map(),
    secrets: new Map(),
    secretsVersion: 0,
    ips: [],
    deployed: false,
    certificates: new Map(),
    logs: [],
  };
}

export function appRoutes(ctx: FakeContext): Route[] {
  return [
    {
      method: "GET",
      path: "/v1/apps",
      handle: ({ query }) => {
        const org = query.get("org_slug");
        if (!org) throw new HttpError(400, "org_slug is required");
        const apps = [...ctx.state.apps.values()].filter((a) => a.orgSlug === org).map(appView);
        return json({ apps, total_apps: apps.length });
      },
    },
    {
      method: "POST",
      path: "/v1/apps",
      handle: ({ body }) => {
        const input = validBody<CreateAppRequest & { app_name?: string }>(ctx, "CreateAppRequest", body);
        const field = ctx.options.appNameField;
        const name = field === "app_name" ? input.app_name : input.name;
        if (!name) throw new HttpError(400, `${field} is required`);
        if (!input.org_slug) throw new HttpError(400, "org_slug is required");
        if (!/^[a-z0-9][a-z0-9-]{0,61}[a-z0-9]$/.test(name)) {
          throw new HttpError(400, `invalid app name "${name}": use lowercase letters, digits and dashes`);
        }
        const existing = ctx.state.apps.get(name);
        if (existing) {
          if (input.idempotency_key && existing.idempotencyKey === input.idempotency_key) {
            return json({ id: existing.id, created_at: existing.createdAt }, 201);
          }
          throw new HttpError(422, `app name ${name} is already taken`, "name_taken");
        }
        const app = createAppRecord(name, input.org_slug, input.network || "default");
        app.idempotencyKey = input.idempotency_key;
        ctx.state.apps.set(app.name, app);
        return json({ id: app.id, created_at: app.createdAt }, 201);
      },
    },
    {
      method: "GET",
      path: "/v1/apps/:app",
      handle: ({ app }) => {
        if (app!.deleting) {
          if (app!.deleting.readsLeft <= 0) {
            ctx.state.apps.delete(app!.name);
            throw new HttpError(404, `app not found: ${app!.name}`);
          }
          app!.deleting.readsLeft -= 1;
        }
        return json(appView(app!));
      },
    },
    {
      method: "DELETE",
      path: "/v1/apps/:app",
      handle: ({ params }) => {
        const app = requireApp(ctx, params.app!);
        for (const machine of app.machines.values()) {
          machine.generation++;
          ctx.setState(machine, "destroyed");
        }
        // A second delete of a lingering app is accepted again and does not restart its countdown.
        const reads = ctx.faults.readsAfterDelete(app.name);
        if (reads > 0) app.deleting ??= { readsLeft: reads };
        else ctx.state.apps.delete(app.name);
        return empty(202);
      },
    },
  ];
}
