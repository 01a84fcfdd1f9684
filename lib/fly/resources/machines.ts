/**
 * Machines: list, read, create (recovered by name after an ambiguous failure, never doubled), update, start,
 * stop, suspend, cordon, destroy, the server-side /wait and chains of it, events and versions.
 * @module
 */

import { pollUntil } from "../../http/poll.ts";
import { isFlyApiError } from "../errors.ts";
import type { QueryValue } from "../transport.ts";
import type {
  CreateMachineRequest,
  Machine,
  MachineEvent,
  MachineVersion,
  StopRequest,
  UpdateMachineRequest,
  WaitableState,
} from "../types.ts";
import { appParams, type Caller, isAmbiguous, machineParams, parseJson, WAIT_MARGIN_MS } from "./call.ts";
import type { LeaseOptions } from "./leases.ts";

export interface MachinesOptions {
  /** How many times a named create may look for its machine and try again after an ambiguous failure. */
  recoveries: number;
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

export function machinesApi({ call, callJson, callDelete }: Caller, options: MachinesOptions) {
  async function waitMachine(appName: string, machineId: string, opts: WaitOptions): Promise<WaitResult> {
    const timeoutSeconds = Math.min(60, Math.max(1, Math.round(opts.timeoutSeconds ?? 60)));
    const states = typeof opts.state === "string" ? [opts.state] : [...opts.state];
    const reply = await call("waitMachine", {
      params: machineParams(appName, machineId),
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
      machineParams(appName, machineId),
    );
    return { ok: true, state: body.state, version: body.version, eventId: body.event_id };
  }

  return {
    listMachines(appName: string, opts: ListMachinesOptions = {}): Promise<Machine[]> {
      const query: Record<string, QueryValue> = {
        include_deleted: opts.includeDeleted || undefined,
        region: opts.region,
        state: opts.state && opts.state.length > 0 ? opts.state.join(",") : undefined,
        summary: opts.summary || undefined,
      };
      for (const [key, value] of Object.entries(opts.metadata ?? {})) query[`metadata.${key}`] = value;
      return callJson<Machine[]>("listMachines", { params: appParams(appName), query, signal: opts.signal });
    },

    getMachine(
      appName: string,
      machineId: string,
      opts: { version?: string; signal?: AbortSignal } = {},
    ): Promise<Machine> {
      return callJson<Machine>("getMachine", {
        params: machineParams(appName, machineId),
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
     * `recoveries: 0` leaves the recovery to the caller (the deploy looks for its launch id for as long as the
     * list may lag, where one look here could miss the machine and create a second).
     */
    async createMachine(
      appName: string,
      input: CreateMachineRequest & { config: CreateMachineRequest["config"] },
      opts: { signal?: AbortSignal; recoveries?: number } = {},
    ): Promise<Machine> {
      const recoveries = input.name ? (opts.recoveries ?? options.recoveries) : 0;
      for (let round = 0; ; round++) {
        try {
          return await callJson<Machine>("createMachine", {
            params: appParams(appName),
            body: input,
            replay: "unsafe",
            signal: opts.signal,
          });
        } catch (error) {
          if (!isFlyApiError(error) || round >= recoveries || !isAmbiguous(error)) throw error;
          const existing = (
            await callJson<Machine[]>("listMachines", { params: appParams(appName), signal: opts.signal })
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
        params: machineParams(appName, machineId),
        body: input,
        leaseNonce: opts.leaseNonce,
        signal: opts.signal,
      });
    },

    async startMachine(appName: string, machineId: string, opts: LeaseOptions = {}): Promise<void> {
      await call("startMachine", {
        params: machineParams(appName, machineId),
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
        params: machineParams(appName, machineId),
        body,
        leaseNonce: opts.leaseNonce,
        signal: opts.signal,
      });
    },

    /**
     * Suspends a started machine (Machines_suspend): a snapshot of its memory, so the next start resumes instead
     * of booting (not guaranteed). Fly suspends only machines of at most 2 GB of memory
     * (fly.io/docs/reference/suspend-resume); a larger one is refused.
     */
    async suspendMachine(appName: string, machineId: string, opts: LeaseOptions = {}): Promise<void> {
      await call("suspendMachine", {
        params: machineParams(appName, machineId),
        leaseNonce: opts.leaseNonce,
        signal: opts.signal,
      });
    },

    async cordonMachine(appName: string, machineId: string, opts: LeaseOptions = {}): Promise<void> {
      await call("cordonMachine", {
        params: machineParams(appName, machineId),
        leaseNonce: opts.leaseNonce,
        signal: opts.signal,
      });
    },

    async uncordonMachine(appName: string, machineId: string, opts: LeaseOptions = {}): Promise<void> {
      await call("uncordonMachine", {
        params: machineParams(appName, machineId),
        leaseNonce: opts.leaseNonce,
        signal: opts.signal,
      });
    },

    /** Destroys the machine. `force` is required for a running one (spec/docs `force`; flyctl sends `kill`). */
    destroyMachine(appName: string, machineId: string, opts: LeaseOptions & { force?: boolean } = {}): Promise<void> {
      return callDelete("destroyMachine", {
        params: machineParams(appName, machineId),
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
      if (opts.timeoutMs <= 0) return { ok: false, timedOut: true };
      // No pause between waits: each /wait blocks server-side. The signal goes to the wait itself, so an abort
      // ends as the `aborted` FlyApiError it raises, not as a timeout.
      const outcome = await pollUntil(
        ({ remainingMs }) =>
          waitMachine(appName, machineId, { ...opts, timeoutSeconds: Math.min(60, Math.ceil(remainingMs / 1000)) }),
        (result) => result.ok,
        { timeoutMs: opts.timeoutMs, intervalMs: 0, factor: 1 },
      );
      return outcome.ok ? outcome.value : { ok: false, timedOut: true };
    },

    listEvents(
      appName: string,
      machineId: string,
      opts: { limit?: number; signal?: AbortSignal } = {},
    ): Promise<MachineEvent[]> {
      return callJson<MachineEvent[]>("listEvents", {
        params: machineParams(appName, machineId),
        query: { limit: opts.limit },
        signal: opts.signal,
      });
    },

    listVersions(appName: string, machineId: string, opts: { signal?: AbortSignal } = {}): Promise<MachineVersion[]> {
      return callJson<MachineVersion[]>("listVersions", {
        params: machineParams(appName, machineId),
        signal: opts.signal,
      });
    },
  };
}
