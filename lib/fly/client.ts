/**
 * Typed Fly Machines API client: one method per API operation the deploy library needs, named after the API.
 * The methods live by resource in ./resources/ (apps, machines, leases, metadata, volumes, secrets, ips, exec,
 * certificates, tokens, postgres); this module reads the options, builds the one transport they share, and
 * composes them into `FlyClient`. Request/response shapes come from the OpenAPI document (./types.ts); wire
 * quirks the spec does not describe are handled in the resource modules and cite their source
 * (fly-machines-api.md = the team's wire notes, from fly-go/flyctl/docs).
 * @module
 */

import { appsApi } from "./resources/apps.ts";
import { createCaller } from "./resources/call.ts";
import { certificatesApi } from "./resources/certificates.ts";
import { execApi } from "./resources/exec.ts";
import { ipsApi } from "./resources/ips.ts";
import { leasesApi } from "./resources/leases.ts";
import { machinesApi } from "./resources/machines.ts";
import { metadataApi } from "./resources/metadata.ts";
import { postgresApi } from "./resources/postgres.ts";
import { secretsApi } from "./resources/secrets.ts";
import { tokensApi } from "./resources/tokens.ts";
import { volumesApi } from "./resources/volumes.ts";
import { DEFAULT_RETRY, type RetryOptions } from "./retry.ts";
import { TOKEN_HELP } from "./token-help.ts";
import { createTransport, type RequestInfo } from "./transport.ts";

export type { LeaseOptions } from "./resources/leases.ts";
export type { ListMachinesOptions, WaitOptions, WaitResult } from "./resources/machines.ts";
export type { SecretsWriteResult } from "./resources/secrets.ts";

export const DEFAULT_BASE_URL = "https://api.machines.dev";

export interface FlyClientOptions {
  /** Default: `FLY_FLAPS_BASE_URL` (the variable flyctl reads), else https://api.machines.dev. */
  baseUrl?: string;
  /** Default: `FLY_API_TOKEN`. Sent as `FlyV1` for macaroons, `Bearer` otherwise (see auth.ts). */
  token?: string;
  /** Per-request timeout in ms (default 30 000). `/wait` uses its own: its `timeout` + 10 s. */
  timeoutMs?: number;
  /** Overall time budget for one call including retries, in ms (default 90 000). */
  deadlineMs?: number;
  /** Extra attempts after the first (default 4). Shorthand for `retry.retries`. */
  retries?: number;
  /** Fine-tuning of backoff (tests shrink the delays). */
  retry?: Partial<RetryOptions>;
  /** Called after every HTTP attempt (including retries) with no secrets in it. */
  onRequest?: (info: RequestInfo) => void;
  userAgent?: string;
  /** Where defaults are read from (default `process.env`). */
  env?: Record<string, string | undefined>;
  /** Jitter source (tests pin it). */
  random?: () => number;
}

/** Thrown by createFlyClient when no token is available: nothing was sent. */
export class FlyClientConfigError extends Error {
  override name = "FlyClientConfigError" as const;
  readonly code = "fly_token_missing" as const;
  constructor() {
    super(`FLY_API_TOKEN is not set: ${TOKEN_HELP}`);
  }
}

export type FlyClient = ReturnType<typeof createFlyClient>;

export function createFlyClient(options: FlyClientOptions = {}) {
  const env = options.env ?? process.env;
  const token = options.token ?? env.FLY_API_TOKEN ?? "";
  if (token.trim() === "") throw new FlyClientConfigError();
  const retry: RetryOptions = {
    ...DEFAULT_RETRY,
    ...options.retry,
    ...(options.retries !== undefined ? { retries: options.retries } : {}),
  };
  const transport = createTransport({
    baseUrl: options.baseUrl ?? (env.FLY_FLAPS_BASE_URL || DEFAULT_BASE_URL),
    token,
    timeoutMs: options.timeoutMs ?? 30_000,
    deadlineMs: options.deadlineMs ?? 90_000,
    retry,
    userAgent: options.userAgent ?? "flightdeck",
    onRequest: options.onRequest,
    random: options.random,
  });
  const caller = createCaller(transport);

  return {
    baseUrl: transport.baseUrl,
    ...appsApi(caller),
    ...machinesApi(caller, { recoveries: retry.retries }),
    ...leasesApi(caller),
    ...metadataApi(caller),
    ...volumesApi(caller),
    ...secretsApi(caller),
    ...tokensApi(caller),
    ...postgresApi(caller),
    ...ipsApi(caller),
    ...execApi(caller),
    ...certificatesApi(caller),
  };
}
