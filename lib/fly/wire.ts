/** The shapes a Fly API call and its answer take between the client, the transport and one attempt. @module */

import type { QueryValue } from "./paths.ts";
import type { Replay } from "./retry.ts";

export type HttpMethod = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

/** One HTTP attempt, as reported to `onRequest` (no headers, no body, so no secrets). */
export interface RequestInfo {
  method: HttpMethod;
  /** URL path, e.g. `/v1/apps/web/machines`. */
  path: string;
  /** Query string including `?`, or "". */
  query: string;
  /** HTTP status, 0 when no response arrived. */
  status: number;
  /** false only for GET: the call log answers "did this run change anything?". */
  mutating: boolean;
  /** 1 for the first try, 2 for the first retry, ... */
  attempt: number;
  durationMs: number;
  /** Set when the attempt failed (HTTP error or transport error). */
  errorCode?: string;
}

export interface Call {
  method: HttpMethod;
  path: string;
  query?: Record<string, QueryValue>;
  body?: unknown;
  leaseNonce?: string;
  replay: Replay;
  /** Overrides the client's per-request timeout (used by /wait, which blocks server-side). */
  timeoutMs?: number;
  /** Non-2xx statuses returned to the caller instead of thrown (e.g. 408 from /wait). */
  acceptStatuses?: readonly number[];
  signal?: AbortSignal;
}

export interface Reply {
  status: number;
  headers: Headers;
  text: string;
  requestId: string | undefined;
  attempts: number;
}
