// A stateful fake of the Fly Machines API for deploy tests and benches: a real HTTP server (Bun.serve on port
// 0) that checks the token, validates request bodies against the published OpenAPI schemas, runs machines
// through their states on timers, enforces leases, volume attachment and secrets versions, and takes injected
// faults (latency, 429, 5xx, dropped connections, machines that never start, failing checks, foreign leases,
// release-command exit codes, app deletes that linger). Modules per resource live in ./fly/.

import { appRoutes, createAppRecord } from "./fly/apps.ts";
import { createClock, retryAfterHeader, type FakeClock } from "./fly/clock.ts";
import { certificateRoutes, createCertificateBehaviour, type CertificateBehaviour } from "./fly/certificates.ts";
import { createExecBehaviour, execRoutes, type ExecBehaviour } from "./fly/exec.ts";
import { createFakeLogs, logRoutes, type FakeLogs } from "./fly/logs.ts";
import {
  createContext,
  HttpError,
  json,
  type FakeCall,
  type FakeContext,
  type FakeOptions,
  type FakeTimings,
} from "./fly/context.ts";
import { FakeFaults } from "./fly/faults.ts";
import { ipRoutes } from "./fly/ips.ts";
import { leaseRoutes, newLease } from "./fly/leases.ts";
import { machineRoutes } from "./fly/machines.ts";
import { createPostgresControls, postgresRoutes, type FakePostgresControls } from "./fly/postgres.ts";
import { compile, match } from "./fly/router.ts";
import { secretRoutes } from "./fly/secrets.ts";
import { suspendRoute } from "./fly/suspend.ts";
import { createState, randomHex, type FakeApp, type FakeMachine, type FakeState } from "./fly/state.ts";
import { createDeployTokens, deployTokenAllows, tokenRoutes, type FakeDeployTokens } from "./fly/tokens.ts";
import { specValidator } from "./fly/validate.ts";
import { volumeRoutes } from "./fly/volumes.ts";

export type { FakeCall, FakeOptions, FakeTimings } from "./fly/context.ts";
export type { CallMatch, MachineMatch } from "./fly/faults.ts";
export type { ClockOptions, FakeClock } from "./fly/clock.ts";
export type { FakeApp, FakeCertificate, FakeLease, FakeLogEntry, FakeMachine, FakeState } from "./fly/state.ts";
export type { CertificateBehaviour } from "./fly/certificates.ts";
export type { ExecBehaviour } from "./fly/exec.ts";
export type { FakeLogs, LogLine } from "./fly/logs.ts";
export type { FakeBackup, FakeCluster, FakePostgresControls } from "./fly/postgres.ts";
export type { FakeDeployToken, FakeDeployTokens } from "./fly/tokens.ts";
export { FakeFaults };

export interface FakeFly {
  /** Base URL to use as FLY_FLAPS_BASE_URL, e.g. http://127.0.0.1:43123 */
  url: string;
  /** The only token the fake accepts (as `FlyV1 <token>` or `Bearer <token>`). */
  token: string;
  state: FakeState;
  /** Every request, in order, with the status it got (0 = connection dropped). */
  calls: FakeCall[];
  faults: FakeFaults;
  /** Live timings: change them between steps of a test (e.g. `timings.bootMs = 2000`). */
  timings: FakeTimings;
  /** Managed Postgres: clusters (inspect or seed) and live knobs (phase time, failed provisioning). */
  postgres: FakePostgresControls;
  /** Deploy tokens minted by POST /v1/apps/{app}/deploy_token, and the `mintUnusable` fault. */
  deployTokens: FakeDeployTokens;
  /** Calls that could have changed something (every non-GET). */
  mutatingCalls(): FakeCall[];
  /** 429s the fake answered so far: clock mode's rate limits and injected `rateLimit` faults alike. */
  readonly rateLimited: number;
  /** Creates an app directly in the state (no call recorded). */
  seedApp(name: string, orgSlug?: string): FakeApp;
  /** Machines of an app that are not destroyed, in creation order. */
  machines(appName: string): FakeMachine[];
  /** App logs (served at /api/v1/apps/{app}/logs: point FLY_API_BASE_URL at `url`); `logs.append` adds lines. */
  logs: FakeLogs;
  /** How certificates behave (stay pending, DNS requirement shape); live. */
  certificates: CertificateBehaviour;
  /** How exec answers (Go omitempty or every field), and every command run. */
  exec: ExecBehaviour;
  /** Clock mode's state (its 429 count), when `clock` was given. */
  clock: FakeClock | undefined;
  close(): Promise<void>;
}

const DEFAULT_TIMINGS: FakeTimings = { bootMs: 20, checksPassMs: 20, stopMs: 10, runMs: 20, destroyMs: 5 };
/** Clock mode's defaults, in Fly ms: a small image boots in about a second, checks pass a little later. */
const CLOCK_TIMINGS: FakeTimings = { bootMs: 1000, checksPassMs: 500, stopMs: 400, runMs: 500, destroyMs: 300 };

export function startFakeFly(opts: FakeOptions = {}): FakeFly {
  const token = opts.token ?? `fm2_fake${randomHex(40)}`;
  const faults = new FakeFaults();
  faults.latencyMs = opts.latencyMs ?? 0;
  const clock = opts.clock ? createClock(opts.clock) : undefined;
  // Clock mode: timings not given are Fly-like durations on the clock's scale; given ones are real ms as ever.
  const defaults = clock
    ? (Object.fromEntries(
        Object.entries(CLOCK_TIMINGS).map(([key, flyMs]) => [key, clock.ms(flyMs)]),
      ) as unknown as FakeTimings)
    : DEFAULT_TIMINGS;
  const timings: FakeTimings = {
    bootMs: opts.bootMs ?? defaults.bootMs,
    checksPassMs: opts.checksPassMs ?? defaults.checksPassMs,
    stopMs: opts.stopMs ?? defaults.stopMs,
    runMs: opts.runMs ?? defaults.runMs,
    destroyMs: opts.destroyMs ?? defaults.destroyMs,
  };
  const ctx: FakeContext = createContext({
    state: createState(),
    faults,
    timings,
    options: {
      defaultRegion: opts.defaultRegion ?? "ewr",
      zonesPerRegion: opts.zonesPerRegion ?? 8,
      leaseResponseShape: opts.leaseResponseShape ?? "wrapped",
      leaseOwner: opts.leaseOwner ?? "deployer@tokens.fly.io",
      appNameField: opts.appNameField ?? "name",
      waitResponse: opts.waitResponse ?? "full",
      uniqueMachineNames: opts.uniqueMachineNames ?? true,
      updateClearsCordon: opts.updateClearsCordon ?? false,
    },
    validate: specValidator(opts.rejectUnknownFields ?? true),
    clock,
  });
  faults.onHoldLease = (hold) => {
    const machine = ctx.state.apps.get(hold.appName)?.machines.get(hold.machineId);
    if (!machine) throw new Error(`fake Fly: holdLease: no machine ${hold.appName}/${hold.machineId}`);
    machine.lease = newLease(ctx, machine, hold.ttlSeconds, hold.description, hold.owner);
  };

  const postgres = createPostgresControls({ phaseMs: opts.postgresPhaseMs, personalOrgSlug: opts.personalOrgSlug });
  const deployTokens = createDeployTokens();
  const logs = createFakeLogs(ctx);
  const certificates = createCertificateBehaviour();
  const exec = createExecBehaviour();
  const routes = compile([
    ...appRoutes(ctx),
    ...machineRoutes(ctx),
    suspendRoute(ctx),
    ...leaseRoutes(ctx),
    ...volumeRoutes(ctx),
    ...secretRoutes(ctx),
    ...ipRoutes(ctx),
    ...certificateRoutes(ctx, certificates),
    ...execRoutes(ctx, exec),
    ...logRoutes(logs),
    ...tokenRoutes(ctx, deployTokens),
    ...postgresRoutes(ctx, postgres),
  ]);
  const calls: FakeCall[] = [];
  let rateLimited = 0;

  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    // /wait blocks for up to 60 s; Bun's default idle timeout (10 s) would cut it.
    idleTimeout: 0,
    async fetch(request) {
      const url = new URL(request.url);
      const method = request.method.toUpperCase();
      const path = url.pathname;
      const nonce = request.headers.get("fly-machine-lease-nonce") ?? undefined;
      const call: FakeCall = {
        method,
        path,
        query: url.search,
        status: 0,
        mutating: method !== "GET",
        at: Date.now(),
        ...(nonce ? { leaseNonce: nonce } : {}),
      };
      calls.push(call);
      const respond = (response: Response): Response => {
        call.status = response.status;
        if (response.status === 429) rateLimited += 1;
        response.headers.set("fly-request-id", `01FAKE${randomHex(20).toUpperCase()}`);
        return response;
      };

      if (
        !authorized(request.headers.get("authorization"), token, (presented) =>
          deployTokenAllows(deployTokens, presented, path),
        )
      ) {
        return respond(json({ error: "Authenticate: token validation error" }, 401));
      }
      if (clock) {
        const admitted = clock.admit(method, path);
        if (!admitted.ok) {
          return respond(json({ error: "rate limit exceeded" }, 429, retryAfterHeader(clock, admitted.retryInMs)));
        }
      }
      const latency = faults.latencyFor(method, path);
      if (latency > 0) await Bun.sleep(latency);

      const fault = faults.takeCallFault(method, path);
      if (fault?.kind === "rate_limit") {
        const headers: Record<string, string> =
          fault.retryAfterSeconds === null ? {} : { "retry-after": String(fault.retryAfterSeconds) };
        return respond(json({ error: "rate limit exceeded" }, 429, headers));
      }
      if (fault?.kind === "server_error")
        return respond(json({ error: "internal server error (injected)" }, fault.status));
      if (fault?.kind === "drop" && !fault.afterHandling) return dropped();

      let body: unknown;
      const text = method === "GET" || method === "DELETE" ? "" : await request.text();
      if (text.trim() !== "") {
        try {
          body = JSON.parse(text);
        } catch {
          return respond(json({ error: "invalid JSON body" }, 400));
        }
        call.body = body;
      }

      const response = await route(method, path, url.searchParams, body, nonce);
      if (fault?.kind === "drop") return dropped();
      return respond(response);
    },
  });

  async function route(
    method: string,
    path: string,
    query: URLSearchParams,
    body: unknown,
    nonce: string | undefined,
  ): Promise<Response> {
    const found = match(routes, method, path);
    if (found === undefined) return json({ error: `no such endpoint: ${method} ${path}` }, 404);
    if (found === "method_not_allowed") return json({ error: `method ${method} not allowed on ${path}` }, 405);
    try {
      let app: FakeApp | undefined;
      if (found.params.app !== undefined) {
        app = ctx.state.apps.get(found.params.app);
        if (!app) throw new HttpError(404, `app not found: ${found.params.app}`);
      }
      return await found.route.handle({ params: found.params, query, body, nonce, app });
    } catch (error) {
      if (error instanceof HttpError)
        return json({ error: error.message, ...(error.apiStatus ? { status: error.apiStatus } : {}) }, error.status);
      return json({ error: `fake Fly internal error: ${error instanceof Error ? error.message : String(error)}` }, 500);
    }
  }

  return {
    url: server.url.origin,
    token,
    state: ctx.state,
    calls,
    faults,
    timings,
    postgres,
    deployTokens,
    mutatingCalls: () => calls.filter((c) => c.mutating),
    get rateLimited() {
      return rateLimited;
    },
    seedApp(name, orgSlug = "personal") {
      const app = createAppRecord(name, orgSlug);
      ctx.state.apps.set(name, app);
      return app;
    },
    machines: (appName) =>
      [...(ctx.state.apps.get(appName)?.machines.values() ?? [])].filter((m) => m.state !== "destroyed"),
    logs,
    certificates,
    exec,
    clock,
    async close() {
      for (const timer of ctx.timers) clearTimeout(timer);
      ctx.timers.clear();
      for (const waiter of [...ctx.waiters]) waiter.resolve("gone");
      await server.stop(true);
    },
  };
}

/** Accepts the token under either scheme flyctl may send (fly-go tokens.normalized), or an app's deploy token. */
function authorized(header: string | null, token: string, deployTokenAllows: (presented: string) => boolean): boolean {
  if (!header) return false;
  const match = /^(Bearer|FlyV1)\s+(.+)$/i.exec(header.trim());
  const presented = match?.[2]?.trim();
  return presented !== undefined && (presented === token || deployTokenAllows(presented));
}

/** Closes the connection without sending a status line: the client sees a reset, as on a dropped link. */
function dropped(): Response {
  return new Response(new ReadableStream({ start: (controller) => controller.error(undefined) }));
}
