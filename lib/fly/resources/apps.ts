/** Apps: list, read, create (idempotent by key) and delete (async on Fly's side, 202). @module */

import type { App, CreateAppRequest, CreateAppResponse } from "../types.ts";
import { appParams, type Caller } from "./call.ts";

export function appsApi({ callJson, callDelete }: Caller) {
  return {
    async listApps(orgSlug: string, opts: { signal?: AbortSignal } = {}): Promise<App[]> {
      const body = await callJson<{ apps?: App[] }>("listApps", { query: { org_slug: orgSlug }, signal: opts.signal });
      return body.apps ?? [];
    },

    getApp(appName: string, opts: { signal?: AbortSignal } = {}): Promise<App> {
      return callJson<App>("getApp", { params: appParams(appName), signal: opts.signal });
    },

    /**
     * Creates an app. An `idempotency_key` is added when absent, which the spec says makes a replay return the
     * first app instead of a false name conflict, so the create can be retried safely. The app can take a
     * moment to become visible to GET (fly-go WaitForApp polls while 404). The name goes out twice: the spec
     * and fly-go call it `name`, Fly's Apps docs `app_name`, and a server following the docs answers
     * 400 "app_name is required" to `name` alone; each side ignores the field it does not know
     * (fly-machines-api.md §4).
     */
    createApp(
      input: CreateAppRequest & { name: string; org_slug: string },
      opts: { signal?: AbortSignal } = {},
    ): Promise<CreateAppResponse> {
      const body = { ...input, app_name: input.name, idempotency_key: input.idempotency_key ?? crypto.randomUUID() };
      return callJson<CreateAppResponse>("createApp", { body, signal: opts.signal });
    },

    /** Deletes the app and everything in it (machines, volumes, IPs, secrets). Async on Fly's side (202). */
    deleteApp(appName: string, opts: { signal?: AbortSignal } = {}): Promise<void> {
      return callDelete("deleteApp", { params: appParams(appName), signal: opts.signal });
    },
  };
}
