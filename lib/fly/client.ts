// Typed Fly Machines API client: one method per API operation the deploy library needs, named after the API.
// Request/response shapes come from the OpenAPI document (./types.ts); wire quirks the spec does not describe
// are handled here and cite their source (fly-machines-api.md = the team's wire notes, from fly-go/flyctl/docs).

import { parseCredentialReply } from "./credential-reply.ts";
import { FlyApiError, isFlyApiError } from "./errors.ts";
import { postgresApi } from "./postgres.ts";
import { DEFAULT_RETRY, type Replay, type RetryOptions } from "./retry.ts";
import { ROUTES, type RouteName } from "./routes.ts";
import { TOKEN_HELP } from "./token-help.ts";
import { createTransport, expandPath, type Call, type QueryValue, type Reply, type RequestInfo } from "./transport.ts";
import type {
  App,
  AppSecret,
  AssignIpRequest,
  AssignIpResponse,
  CertificateCheckResponse,
  CertificateDetail,
  CreateAppRequest,
  CreateAppResponse,
  CreateMachineRequest,
  CreateVolumeRequest,
  IpAssignment,
  Lease,
  Machine,
  MachineEvent,
  MachineExecResponse,
  MachineVersion,
  StopRequest,
  UpdateMachineRequest,
  Volume,
  WaitableState,
} from "./types.ts";

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

export interface LeaseOptions {
  leaseNonce?: string;
  signal?: AbortSignal;
}

export interface ListMachinesOptions {
  includeDeleted?: boolean;
  region?: string;
  /** Subset of created, started, stopped, suspended. */
  state?: readonly string[];
  /** Exact-match filters (`metadata.fly_process_group=app`), ANDed. */
  metadata?: Record<string, string>;
  summary?: boolean;
  signal?: AbortSignal;
}

export interface WaitOptions {
  state: WaitableState | readonly WaitableState[];
  /** Machine version to wait on (the spec's preferred form; docs require it for `stopped`). */
  version?: string;
  fromEventId?: string;
  /** Server-side wait in seconds, clamped to the API's 1..60 (fly-go does the same). Default 60. */
  timeoutSeconds?: number;
  signal?: AbortSignal;
}

/** The outcome of `/wait`: a 408 (the server's wait ran out) is an answer, not a failure. */
export type WaitResult =
  | { ok: true; state: string | undefined; version: string | undefined; eventId: string | undefined }
  | { ok: false; timedOut: true };

export interface SecretsWriteResult {
  secrets: AppSecret[];
  /** Secrets version after the write: pass it as `min_secrets_version` on the next machine create/update. */
  version: number;
}

export type FlyClient = ReturnType<typeof createFlyClient>;

const WAIT_MARGIN_MS = 10_000;

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

  interface CallOptions {
    params?: Record<string, string>;
    query?: Record<string, QueryValue>;
    body?: unknown;
    leaseNonce?: string;
    replay?: Replay;
    timeoutMs?: number;
    acceptStatuses?: readonly number[];
    signal?: AbortSignal;
  }

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

  /**
   * For deletes: when an earlier attempt may have gone through (we retried), a 404 means the thing is gone,
   * which is what the caller asked for.
   */
  async function callDelete(route: RouteName, opts: CallOptions): Promise<void> {
    try {
      await call(route, opts);
    } catch (error) {
      if (isFlyApiError(error) && error.status === 404 && error.attempts > 1) return;
      throw error;
    }
  }

  const app = (app_name: string) => ({ app_name });
  const machine = (app_name: string, machine_id: string) => ({ app_name, machine_id });

  async function waitMachine(appName: string, machineId: string, opts: WaitOptions): Promise<WaitResult> {
    const timeoutSeconds = Math.min(60, Math.max(1, Math.round(opts.timeoutSeconds ?? 60)));
    const states = typeof opts.state === "string" ? [opts.state] : [...opts.state];
    const reply = await call("waitMachine", {
      params: machine(appName, machineId),
      // Repeated (`state=started&state=failed`), as fly-go sends it: the spec also allows a comma list, but the
      // repeated form is the one every server reads (fly-machines-api.md §12.12).
      query: { state: states, version: opts.version, from_event_id: opts.fromEventId, timeout: timeoutSeconds },
      timeoutMs: timeoutSeconds * 1000 + WAIT_MARGIN_MS,
      acceptStatuses: [408],
      signal: opts.signal,
    });
    if (reply.status === 408) return { ok: false, timedOut: true };
    const body = parseJson<{ state?: string; version?: string; event_id?: string }>(
      reply,
      "waitMachine",
      machine(appName, machineId),
    );
    return { ok: true, state: body.state, version: body.version, eventId: body.event_id };
  }

  return {
    baseUrl: transport.baseUrl,

    // ---- apps ----
    async listApps(orgSlug: string, opts: { signal?: AbortSignal } = {}): Promise<App[]> {
      const body = await callJson<{ apps?: App[] }>("listApps", { query: { org_slug: orgSlug }, signal: opts.signal });
      return body.apps ?? [];
    },

    getApp(appName: string, opts: { signal?: AbortSignal } = {}): Promise<App> {
      return callJson<App>("getApp", { params: app(appName), signal: opts.signal });
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
      return callDelete("deleteApp", { params: app(appName), signal: opts.signal });
    },

    // ---- machines ----
    listMachines(appName: string, opts: ListMachinesOptions = {}): Promise<Machine[]> {
      const query: Record<string, QueryValue> = {
        include_deleted: opts.includeDeleted || undefined,
        region: opts.region,
        state: opts.state && opts.state.length > 0 ? opts.state.join(",") : undefined,
        summary: opts.summary || undefined,
      };
      for (const [key, value] of Object.entries(opts.metadata ?? {})) query[`metadata.${key}`] = value;
      return callJson<Machine[]>("listMachines", { params: app(appName), query, signal: opts.signal });
    },

    getMachine(
      appName: string,
      machineId: string,
      opts: { version?: string; signal?: AbortSignal } = {},
    ): Promise<Machine> {
      return callJson<Machine>("getMachine", {
        params: machine(appName, machineId),
        query: { version: opts.version },
        signal: opts.signal,
      });
    },

    /**
     * Creates a machine. Not idempotent: after an error where the request may have reached Fly (5xx, timeout,
     * dropped connection) a blind retry could create a second machine (flyctl's warning on IsTransientFlapsError).
     * When `input.name` is set we can tell: we list the app's machines and return the one with that name if the
     * first attempt made it, else retry. Without a name only provably-unprocessed failures (429, refused
     * connection) are retried. A machine recovered this way has no `nonce`, even if `lease_ttl` was asked for.
     */
    async createMachine(
      appName: string,
      input: CreateMachineRequest & { config: CreateMachineRequest["config"] },
      opts: { signal?: AbortSignal } = {},
    ): Promise<Machine> {
      const recoveries = input.name ? retry.retries : 0;
      for (let round = 0; ; round++) {
        try {
          return await callJson<Machine>("createMachine", {
            params: app(appName),
            body: input,
            replay: "unsafe",
            signal: opts.signal,
          });
        } catch (error) {
          if (!isFlyApiError(error) || round >= recoveries || !isAmbiguous(error)) throw error;
          const existing = (
            await callJson<Machine[]>("listMachines", { params: app(appName), signal: opts.signal })
          ).find((m) => m.name === input.name && m.state !== "destroyed" && m.state !== "destroying");
          if (existing) return existing;
        }
      }
    },

    /**
     * Replaces the machine's whole config (no partial update: GET, change, send everything). A running machine
     * restarts on the new version; `skip_launch` keeps a stopped one stopped. Replaying is harmless (same
     * config); with `current_version`, a 409 on a retried attempt (`error.attempts > 1`) can mean our own first
     * attempt already applied.
     */
    updateMachine(
      appName: string,
      machineId: string,
      input: UpdateMachineRequest,
      opts: LeaseOptions = {},
    ): Promise<Machine> {
      return callJson<Machine>("updateMachine", {
        params: machine(appName, machineId),
        body: input,
        leaseNonce: opts.leaseNonce,
        signal: opts.signal,
      });
    },

    async startMachine(appName: string, machineId: string, opts: LeaseOptions = {}): Promise<void> {
      await call("startMachine", {
        params: machine(appName, machineId),
        leaseNonce: opts.leaseNonce,
        signal: opts.signal,
      });
    },

    /** Stops the machine; `killSignal`/`killTimeout` override its stop_config for this stop (StopRequest). */
    async stopMachine(
      appName: string,
      machineId: string,
      opts: LeaseOptions & { killSignal?: StopRequest["signal"]; killTimeout?: string } = {},
    ): Promise<void> {
      const body: StopRequest = {};
      if (opts.killSignal !== undefined) body.signal = opts.killSignal;
      if (opts.killTimeout !== undefined) body.timeout = opts.killTimeout;
      await call("stopMachine", {
        params: machine(appName, machineId),
        body,
        leaseNonce: opts.leaseNonce,
        signal: opts.signal,
      });
    },

    async cordonMachine(appName: string, machineId: string, opts: LeaseOptions = {}): Promise<void> {
      await call("cordonMachine", {
        params: machine(appName, machineId),
        leaseNonce: opts.leaseNonce,
        signal: opts.signal,
      });
    },

    async uncordonMachine(appName: string, machineId: string, opts: LeaseOptions = {}): Promise<void> {
      await call("uncordonMachine", {
        params: machine(appName, machineId),
        leaseNonce: opts.leaseNonce,
        signal: opts.signal,
      });
    },

    /** Destroys the machine. `force` is required for a running one (spec/docs `force`; flyctl sends `kill`). */
    destroyMachine(appName: string, machineId: string, opts: LeaseOptions & { force?: boolean } = {}): Promise<void> {
      return callDelete("destroyMachine", {
        params: machine(appName, machineId),
        query: { force: opts.force || undefined },
        leaseNonce: opts.leaseNonce,
        signal: opts.signal,
      });
    },

    /** One server-side wait (≤ 60 s). A 408 comes back as `{ ok: false, timedOut: true }`. */
    waitMachine,

    /**
     * Waits up to `timeoutMs` by chaining `/wait` calls of ≤ 60 s, as flyctl does (the API caps one wait at
     * 60 s). Returns the last result: `{ ok: false, timedOut: true }` when the time ran out.
     */
    async waitForMachineState(
      appName: string,
      machineId: string,
      opts: Omit<WaitOptions, "timeoutSeconds"> & { timeoutMs: number },
    ): Promise<WaitResult> {
      const deadline = Date.now() + opts.timeoutMs;
      for (;;) {
        const remainingSeconds = Math.ceil((deadline - Date.now()) / 1000);
        if (remainingSeconds <= 0) return { ok: false, timedOut: true };
        const result = await waitMachine(appName, machineId, {
          ...opts,
          timeoutSeconds: Math.min(60, remainingSeconds),
        });
        if (result.ok) return result;
      }
    },

    listEvents(
      appName: string,
      machineId: string,
      opts: { limit?: number; signal?: AbortSignal } = {},
    ): Promise<MachineEvent[]> {
      return callJson<MachineEvent[]>("listEvents", {
        params: machine(appName, machineId),
        query: { limit: opts.limit },
        signal: opts.signal,
      });
    },

    listVersions(appName: string, machineId: string, opts: { signal?: AbortSignal } = {}): Promise<MachineVersion[]> {
      return callJson<MachineVersion[]>("listVersions", { params: machine(appName, machineId), signal: opts.signal });
    },

    // ---- leases ----
    /**
     * Takes the machine's lease (flyctl: 13 s TTL, refreshed every 4 s). Not replayed after an ambiguous
     * failure: if the first attempt won, a replay would meet our own lease as a 409 and we would not know its
     * nonce. The response is parsed in both documented shapes (spec: flat; docs/fly-go: `{status, data}`).
     */
    async acquireLease(
      appName: string,
      machineId: string,
      opts: { ttlSeconds?: number; description?: string; signal?: AbortSignal } = {},
    ): Promise<Lease> {
      const body = { ttl: opts.ttlSeconds ?? 13, ...(opts.description ? { description: opts.description } : {}) };
      const reply = await call("acquireLease", {
        params: machine(appName, machineId),
        body,
        replay: "unsafe",
        signal: opts.signal,
      });
      return unwrapLease(
        parseJson<unknown>(reply, "acquireLease", machine(appName, machineId)),
        reply,
        "acquireLease",
        machine(appName, machineId),
      );
    },

    /** Extends our lease: the same POST carrying our nonce (safe to replay, the nonce names the lease). */
    async refreshLease(
      appName: string,
      machineId: string,
      nonce: string,
      opts: { ttlSeconds?: number; signal?: AbortSignal } = {},
    ): Promise<Lease> {
      const reply = await call("acquireLease", {
        params: machine(appName, machineId),
        body: { ttl: opts.ttlSeconds ?? 13 },
        leaseNonce: nonce,
        signal: opts.signal,
      });
      return unwrapLease(
        parseJson<unknown>(reply, "acquireLease", machine(appName, machineId)),
        reply,
        "acquireLease",
        machine(appName, machineId),
      );
    },

    releaseLease(
      appName: string,
      machineId: string,
      nonce: string,
      opts: { signal?: AbortSignal } = {},
    ): Promise<void> {
      return callDelete("releaseLease", {
        params: machine(appName, machineId),
        leaseNonce: nonce,
        signal: opts.signal,
      });
    },

    /** The current lease, or undefined when the machine has none (404). */
    async getLease(
      appName: string,
      machineId: string,
      opts: { signal?: AbortSignal } = {},
    ): Promise<Lease | undefined> {
      try {
        const reply = await call("getLease", { params: machine(appName, machineId), signal: opts.signal });
        return unwrapLease(
          parseJson<unknown>(reply, "getLease", machine(appName, machineId)),
          reply,
          "getLease",
          machine(appName, machineId),
        );
      } catch (error) {
        if (isFlyApiError(error) && error.status === 404) return undefined;
        throw error;
      }
    },

    // ---- metadata (no new machine version) ----
    getMetadata(
      appName: string,
      machineId: string,
      opts: { signal?: AbortSignal } = {},
    ): Promise<Record<string, string>> {
      return callJson<Record<string, string>>("getMetadata", {
        params: machine(appName, machineId),
        signal: opts.signal,
      });
    },

    async setMetadata(
      appName: string,
      machineId: string,
      key: string,
      value: string,
      opts: LeaseOptions = {},
    ): Promise<void> {
      await call("setMetadata", {
        params: { ...machine(appName, machineId), key },
        body: { value },
        leaseNonce: opts.leaseNonce,
        signal: opts.signal,
      });
    },

    /** Sets several keys at once (PATCH merges; other keys are untouched). 412 if `machineVersion` is stale. */
    async updateMetadata(
      appName: string,
      machineId: string,
      metadata: Record<string, string>,
      opts: LeaseOptions & { machineVersion?: string } = {},
    ): Promise<void> {
      const body = { metadata, ...(opts.machineVersion ? { machine_version: opts.machineVersion } : {}) };
      await call("updateMetadata", {
        params: machine(appName, machineId),
        body,
        leaseNonce: opts.leaseNonce,
        signal: opts.signal,
      });
    },

    deleteMetadata(appName: string, machineId: string, key: string, opts: LeaseOptions = {}): Promise<void> {
      return callDelete("deleteMetadata", {
        params: { ...machine(appName, machineId), key },
        leaseNonce: opts.leaseNonce,
        signal: opts.signal,
      });
    },

    // ---- volumes ----
    listVolumes(appName: string, opts: { signal?: AbortSignal } = {}): Promise<Volume[]> {
      return callJson<Volume[]>("listVolumes", { params: app(appName), signal: opts.signal });
    },

    getVolume(appName: string, volumeId: string, opts: { signal?: AbortSignal } = {}): Promise<Volume> {
      return callJson<Volume>("getVolume", { params: { app_name: appName, volume_id: volumeId }, signal: opts.signal });
    },

    /** Creates a volume. Not replayed after ambiguous failures (names are not unique; a replay could double it). */
    createVolume(
      appName: string,
      input: CreateVolumeRequest & { name: string; region: string },
      opts: { signal?: AbortSignal } = {},
    ): Promise<Volume> {
      return callJson<Volume>("createVolume", {
        params: app(appName),
        body: input,
        replay: "unsafe",
        signal: opts.signal,
      });
    },

    deleteVolume(appName: string, volumeId: string, opts: { signal?: AbortSignal } = {}): Promise<void> {
      return callDelete("deleteVolume", { params: { app_name: appName, volume_id: volumeId }, signal: opts.signal });
    },

    // ---- secrets (Machines API, flyctl since PR #4535) ----
    /** Names and digests (values only with `showSecrets`). `minVersion` is the spec's `min_version` filter. */
    async listSecrets(
      appName: string,
      opts: { minVersion?: number; showSecrets?: boolean; signal?: AbortSignal } = {},
    ): Promise<AppSecret[]> {
      const body = await callJson<{ secrets?: AppSecret[] }>("listSecrets", {
        params: app(appName),
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
        await callJson<unknown>("updateSecrets", { params: app(appName), body: { values }, signal: opts.signal }),
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
        await callJson<unknown>("updateSecrets", { params: app(appName), body: { values }, signal: opts.signal }),
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

    // ---- deploy tokens ----
    /**
     * Mints a deploy token limited to this app (what `fly tokens create deploy` makes). `expiry` is a Go
     * duration ("720h"). The reply is parsed without ever being quoted: it is the token.
     */
    async createDeployToken(
      appName: string,
      opts: { expiry?: string; signal?: AbortSignal } = {},
    ): Promise<{ token: string }> {
      const params = app(appName);
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

    // ---- Managed Postgres (./postgres.ts) ----
    ...postgresApi({ call }),

    // ---- IP assignments ----
    async listIpAssignments(appName: string, opts: { signal?: AbortSignal } = {}): Promise<IpAssignment[]> {
      const body = await callJson<{ ips?: IpAssignment[] }>("listIpAssignments", {
        params: app(appName),
        signal: opts.signal,
      });
      return body.ips ?? [];
    },

    /** Allocates an address (flyctl first deploy: `{type:"v6"}` then `{type:"shared_v4"}`). Not replayed blindly. */
    assignIp(
      appName: string,
      input: AssignIpRequest & { type: NonNullable<AssignIpRequest["type"]> },
      opts: { signal?: AbortSignal } = {},
    ): Promise<AssignIpResponse> {
      return callJson<AssignIpResponse>("assignIp", {
        params: app(appName),
        body: input,
        replay: "unsafe",
        signal: opts.signal,
      });
    },

    deleteIp(appName: string, ip: string, opts: { signal?: AbortSignal } = {}): Promise<void> {
      return callDelete("deleteIp", { params: { app_name: appName, ip }, signal: opts.signal });
    },

    // ---- one-off commands ----
    /**
     * Runs a command on a started machine and returns its output. Never replayed after an ambiguous failure:
     * the command may have run. `timeoutSeconds` bounds the command on Fly's side; the HTTP request waits that
     * long plus a margin. fly-go's MachineExecResponse tags exit_code `omitempty`, so a command that exited 0
     * may come back without the field (see exec.ts for how that is read).
     */
    execMachine(
      appName: string,
      machineId: string,
      input: { command: readonly string[]; timeoutSeconds: number; stdin?: string },
      opts: { signal?: AbortSignal } = {},
    ): Promise<MachineExecResponse> {
      const body = {
        command: [...input.command],
        timeout: input.timeoutSeconds,
        ...(input.stdin !== undefined ? { stdin: input.stdin } : {}),
      };
      return callJson<MachineExecResponse>("execMachine", {
        params: machine(appName, machineId),
        body,
        replay: "unsafe",
        timeoutMs: input.timeoutSeconds * 1000 + WAIT_MARGIN_MS,
        signal: opts.signal,
      });
    },

    // ---- TLS certificates (ACME, issued by Fly) ----
    /** Asks Fly to issue a certificate for `hostname`; 422 when the hostname is refused or already taken. */
    createAcmeCertificate(
      appName: string,
      hostname: string,
      opts: { signal?: AbortSignal } = {},
    ): Promise<CertificateDetail> {
      return callJson<CertificateDetail>("createAcmeCertificate", {
        params: app(appName),
        body: { hostname },
        signal: opts.signal,
      });
    },

    /** The certificate with its DNS requirements, or undefined when the app has none for `hostname` (404). */
    async getCertificate(
      appName: string,
      hostname: string,
      opts: { signal?: AbortSignal } = {},
    ): Promise<CertificateDetail | undefined> {
      try {
        return await callJson<CertificateDetail>("getCertificate", {
          params: { app_name: appName, hostname },
          signal: opts.signal,
        });
      } catch (error) {
        if (isFlyApiError(error) && error.status === 404) return undefined;
        throw error;
      }
    },

    /** Re-checks DNS and retries validation; the answer adds what DNS resolves to now (`dns_records`). */
    checkCertificate(
      appName: string,
      hostname: string,
      opts: { signal?: AbortSignal } = {},
    ): Promise<CertificateCheckResponse> {
      return callJson<CertificateCheckResponse>("checkCertificate", {
        params: { app_name: appName, hostname },
        signal: opts.signal,
      });
    },

    deleteCertificate(appName: string, hostname: string, opts: { signal?: AbortSignal } = {}): Promise<void> {
      return callDelete("deleteCertificate", { params: { app_name: appName, hostname }, signal: opts.signal });
    },
  };
}

/** An error after which a non-idempotent call may or may not have taken effect. */
function isAmbiguous(error: FlyApiError): boolean {
  return error.code === "network_error" || error.code === "timeout" || error.status === 408 || error.status >= 500;
}

function parseJson<T>(reply: Reply, route: RouteName, params: Record<string, string>): T {
  try {
    return JSON.parse(reply.text) as T;
  } catch (cause) {
    throw invalidResponse(reply, route, params, reply.text.slice(0, 200), cause);
  }
}

/** A 2xx whose body is not what the API documents: reported with the call's context, never retried. */
function invalidResponse(
  reply: Reply,
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

function safeExpand(template: string, params: Record<string, string>): string {
  try {
    return expandPath(template, params);
  } catch {
    return template;
  }
}

function unwrapLease(body: unknown, reply: Reply, route: RouteName, params: Record<string, string>): Lease {
  const record = (body ?? {}) as Record<string, unknown>;
  const lease = (record.data && typeof record.data === "object" ? record.data : record) as Lease;
  if (typeof lease.nonce !== "string" && route === "acquireLease") {
    throw invalidResponse(reply, route, params, "lease response has no nonce");
  }
  return lease;
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
