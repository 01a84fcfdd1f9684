// Shared machinery of the fake: options, timers (all cancelled on close), state waiters for /wait, and the
// small HTTP helpers every resource module uses.

import type { ClockOptions, FakeClock } from "./clock.ts";
import type { FakeFaults } from "./faults.ts";
import type { FakeApp, FakeMachine, FakeState } from "./state.ts";
import type { BodyValidator } from "./validate.ts";

export interface FakeTimings {
  /** created -> started (default 20 ms; the deploy bench uses 2000). */
  bootMs: number;
  /** started -> checks passing (default 20 ms). */
  checksPassMs: number;
  /** stopping -> stopped (default 10 ms). */
  stopMs: number;
  /** How long an auto_destroy machine's process runs before it exits (default 20 ms). */
  runMs: number;
  /** destroying -> destroyed (default 5 ms). */
  destroyMs: number;
}

export interface FakeOptions extends Partial<FakeTimings> {
  token?: string;
  /** Region used when a create names none (default "ewr"). */
  defaultRegion?: string;
  /** Zones per region for volume placement (default 8). */
  zonesPerRegion?: number;
  /** Lease responses as the docs/fly-go show them (`{status, data}`, default) or as the spec does (flat). */
  leaseResponseShape?: "wrapped" | "flat";
  /** Reject unknown body fields (default true; the real API ignores them). */
  rejectUnknownFields?: boolean;
  /** Lease owner reported for leases taken with the fake's token. */
  leaseOwner?: string;
  /** Fixed latency for every call, in ms (same as faults.latencyMs). */
  latencyMs?: number;
  /** Managed Postgres: time of each provisioning phase and of a backup (default 30 ms). */
  postgresPhaseMs?: number;
  /** Managed Postgres refuses org_slug "personal" and wants this real slug instead (flyctl-behaviours §6.3). */
  personalOrgSlug?: string;
  /**
   * Which field app create reads the name from (fly-machines-api.md §4): `name` as the spec and fly-go say
   * (default), or `app_name` as Fly's Apps docs say. Either way the other field is ignored, as the real API
   * ignores unknown fields, and a create without the field read answers 400 "<field> is required".
   */
  appNameField?: "name" | "app_name";
  /**
   * What a `/wait` that reached its state answers: `full` = `{ok, state, version, event_id}` (default), or
   * `ok_only` = `{ok: true}`: every field but `ok` is optional in WaitMachineResponse, and fly-go's Wait never
   * reads the body, so a server may say no more than that.
   */
  waitResponse?: "full" | "ok_only";
  /**
   * Machine names unique within an app (default true: the spec's CreateMachineRequest.name is "Unique name for
   * this Machine", a second create answers 409). `false` plays a server that does not enforce it.
   */
  uniqueMachineNames?: boolean;
  /**
   * Whether an update clears the machine's cordon. No Fly document says; the default (false) keeps it, as the
   * spec's Machine.cordoned is only changed by /cordon and /uncordon. `true` plays a server that clears it.
   */
  updateClearsCordon?: boolean;
  /**
   * Clock mode (./clock.ts): Fly's rate limits, list lag, 404 for a just-created machine, lasting transient
   * states, 400 for a wait over 60 s. Unset = instant timing (the default). In clock mode, timings not given
   * default to Fly-like durations on the clock's scale.
   */
  clock?: ClockOptions;
}

export interface FakeCall {
  method: string;
  path: string;
  query: string;
  status: number;
  mutating: boolean;
  body?: unknown;
  leaseNonce?: string;
  at: number;
}

export interface Waiter {
  machine: FakeMachine;
  wanted: Set<string>;
  resolve(outcome: "reached" | "gone"): void;
}

export interface FakeContext {
  state: FakeState;
  faults: FakeFaults;
  timings: FakeTimings;
  options: Required<
    Pick<
      FakeOptions,
      | "defaultRegion"
      | "zonesPerRegion"
      | "leaseResponseShape"
      | "leaseOwner"
      | "appNameField"
      | "waitResponse"
      | "uniqueMachineNames"
      | "updateClearsCordon"
    >
  >;
  validate: BodyValidator;
  /** Set in clock mode. */
  clock: FakeClock | undefined;
  waiters: Set<Waiter>;
  timers: Set<ReturnType<typeof setTimeout>>;
  later(ms: number, fn: () => void): void;
  setState(machine: FakeMachine, state: string): void;
}

export function createContext(parts: Omit<FakeContext, "later" | "setState" | "waiters" | "timers">): FakeContext {
  const timers = new Set<ReturnType<typeof setTimeout>>();
  const waiters = new Set<Waiter>();
  return {
    ...parts,
    timers,
    waiters,
    later(ms, fn) {
      const timer = setTimeout(() => {
        timers.delete(timer);
        fn();
      }, ms);
      timers.add(timer);
    },
    setState(machine, state) {
      machine.state = state;
      if (state === "destroyed") machine.goneAt = Date.now();
      machine.updated_at = new Date().toISOString();
      for (const waiter of [...waiters]) {
        if (waiter.machine !== machine) continue;
        if (stateMatches(waiter.wanted, state)) waiter.resolve("reached");
        else if (state === "destroyed") waiter.resolve("gone");
      }
    },
  };
}

/** States after which nothing happens without a new request: what `settled` waits for. */
const SETTLED = new Set(["created", "started", "stopped", "suspended", "failed", "destroyed"]);

export function stateMatches(wanted: Set<string>, state: string): boolean {
  return wanted.has(state) || (wanted.has("settled") && SETTLED.has(state));
}

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly apiStatus?: string,
  ) {
    super(message);
  }
}

export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } });
}

export function empty(status: number): Response {
  return new Response(null, { status });
}

export function requireApp(ctx: FakeContext, name: string): FakeApp {
  const app = ctx.state.apps.get(name);
  if (!app) throw new HttpError(404, `app not found: ${name}`);
  return app;
}

export function requireMachine(app: FakeApp, id: string): FakeMachine {
  const machine = app.machines.get(id);
  if (!machine) throw new HttpError(404, `machine not found: ${id}`);
  return machine;
}

/** Validates a body against a spec schema; the 400 carries the first problem, like the API's {error}. */
export function validBody<T>(ctx: FakeContext, schemaName: string, body: unknown): T {
  if (body === undefined) return {} as T;
  const problem = ctx.validate(schemaName, body);
  if (problem) throw new HttpError(400, problem);
  return body as T;
}
