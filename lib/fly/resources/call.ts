/**
 * What every resource module is lent by the client: its one way of sending a route (retries, deadline, token and
 * errors live in the transport), the JSON and delete variants, and the error for a 2xx the API does not document.
 * @module
 */

import { FlyApiError, isFlyApiError } from "../errors.ts";
import type { Replay } from "../retry.ts";
import { ROUTES, type RouteName } from "../routes.ts";
import { type Call, expandPath, type QueryValue, type Reply, type Transport } from "../transport.ts";

export interface CallOptions {
  params?: Record<string, string>;
  query?: Record<string, QueryValue>;
  body?: unknown;
  leaseNonce?: string;
  replay?: Replay;
  timeoutMs?: number;
  acceptStatuses?: readonly number[];
  signal?: AbortSignal;
}

export interface Caller {
  call(route: RouteName, opts?: CallOptions): Promise<Reply>;
  callJson<T>(route: RouteName, opts?: CallOptions): Promise<T>;
  /**
   * For deletes: when an earlier attempt may have gone through (we retried), a 404 means the thing is gone,
   * which is what the caller asked for.
   */
  callDelete(route: RouteName, opts: CallOptions): Promise<void>;
}

export type Signal = { signal?: AbortSignal };

/** Margin for calls that block server-side for a time they name (/wait, exec): the HTTP request outlives it. */
export const WAIT_MARGIN_MS = 10_000;

export const appParams = (app_name: string) => ({ app_name });
export const machineParams = (app_name: string, machine_id: string) => ({ app_name, machine_id });

export function createCaller(transport: Transport): Caller {
  function call(route: RouteName, opts: CallOptions = {}): Promise<Reply> {
    const [method, template] = ROUTES[route];
    const request: Call = {
      method,
      path: expandPath(template, opts.params ?? {}),
      query: opts.query,
      body: opts.body,
      leaseNonce: opts.leaseNonce,
      replay: opts.replay ?? "safe",
      timeoutMs: opts.timeoutMs,
      acceptStatuses: opts.acceptStatuses,
      signal: opts.signal,
    };
    return transport.send(request);
  }

  async function callJson<T>(route: RouteName, opts: CallOptions = {}): Promise<T> {
    const reply = await call(route, opts);
    return parseJson<T>(reply, route, opts.params ?? {});
  }

  async function callDelete(route: RouteName, opts: CallOptions): Promise<void> {
    try {
      await call(route, opts);
    } catch (error) {
      if (isFlyApiError(error) && error.status === 404 && error.attempts > 1) return;
      throw error;
    }
  }

  return { call, callJson, callDelete };
}

/** An error after which a non-idempotent call may or may not have taken effect. */
export function isAmbiguous(error: FlyApiError): boolean {
  return error.code === "network_error" || error.code === "timeout" || error.status === 408 || error.status >= 500;
}

/** Reads a success body as JSON; one that is not JSON is an invalid_response naming the call. */
export function parseJson<T>(reply: Reply, route: RouteName, params: Record<string, string>): T {
  try {
    return JSON.parse(reply.text) as T;
  } catch (cause) {
    throw invalidResponse(reply, route, params, reply.text.slice(0, 200), cause);
  }
}

/** A 2xx whose body is not what the API documents: reported with the call's context, never retried. */
export function invalidResponse(
  reply: Pick<Reply, "status" | "requestId" | "attempts">,
  route: RouteName,
  params: Record<string, string>,
  apiMessage: string,
  cause?: unknown,
): FlyApiError {
  const [method, template] = ROUTES[route];
  return new FlyApiError({
    code: "invalid_response",
    method,
    path: safeExpand(template, params),
    status: reply.status,
    apiMessage,
    requestId: reply.requestId,
    attempts: reply.attempts,
    ...(cause === undefined ? {} : { cause }),
  });
}

/** Expands a template for an error message; a missing parameter leaves the template as it is. */
export function safeExpand(template: string, params: Record<string, string>): string {
  try {
    return expandPath(template, params);
  } catch {
    return template;
  }
}
