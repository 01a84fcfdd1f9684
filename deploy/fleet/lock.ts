// One deploy at a time, fleet-wide. Every command that changes an app's machines (deploy, scale, rollback,
// a secrets roll, preview up/down) holds this lock from before its first change to its end.
//
// Fly has one locking primitive, the machine lease (fly-machines-api.md §5.6): a TTL'd lock on one machine
// whose nonce every write to that machine must carry. flyctl takes a lease on every machine it is about to
// update, all at once, refreshes them in the background and releases them at the end
// (internal/command/deploy/machines_deploymachinesapp.go: AcquireLeases, StartBackgroundLeaseRefresh,
// ReleaseLeases). Taking leases one update at a time lets two rollouts interleave (issue 10); leasing only the
// machines that exist cannot stop two first deploys from both creating a fleet, because there is nothing to
// lease yet. So the lock is two layers:
//
// 1. The anchor: a machine named `flightdeck-fleet-lock` that is never started (skip_launch; no services, no
//    volume). Without fly_platform_version it is not part of the fleet for the planner, for flyctl (fly-go
//    ListFlyAppsMachines keeps only IsFlyAppsPlatform machines) or for the proxy; its own fly_process_group
//    keeps flyctl's bluegreen check for "detached" machines of the configured groups from counting it. Its
//    lease is the app's mutex. Machine names are unique within an app (spec, CreateMachineRequest.name:
//    "Unique name for this Machine"), so of two runs racing to create the anchor one succeeds and the other
//    gets a conflict; both then contend for the one anchor's lease, and one wins. (It is created without
//    `lease_ttl`: a create whose answer is lost is recovered by name without its nonce, and that lease would
//    lock everyone out for a TTL.) Every run takes the anchor first, so two runs never hold parts of the
//    fleet each (no livelock), and an empty fleet is locked like a full one. The anchor is created with the
//    image the run deploys (or the fleet's); a run with neither (a secrets write to an app without machines)
//    has nothing to lease and creates no machine, so it needs no anchor.
//    Should a server not enforce unique names, a run proceeds only when, after taking its anchor lease, the
//    list shows exactly one anchor. Two runs that both created one then both step back (each destroys its
//    own and tries again after a random pause); a run that saw only its own anchor cannot be joined later,
//    because a run creates an anchor only after a list that shows none, and that list is read after ours
//    was created. The fake has a mode for such a server (test/deploy/releases.test.ts).
// 2. Under the anchor, a lease on every managed machine (fly_platform_version v2, not release-command or
//    console machines), taken in parallel like flyctl's AcquireLeases. These shut out flyctl and any other
//    tool that does not know the anchor, and make every write carry a nonce: a write from a run that lost
//    its lease is refused by Fly (409) instead of landing. A machine that appears while we hold the lock
//    (created by a tool that ignores the anchor) is leased too before the lock is reported held.
//
// Machines this run creates are leased right after the create and join the held set (rollout.ts). After
// creating, the deploy re-reads the fleet and converges to the desired count under the lock (deploy.ts): with
// the anchor two first deploys run one after the other, so the second plans against the five machines the
// first made and updates them; the re-read is the check that the promise held.
//
// A run that finds the lock held (409 on the anchor or any machine) releases what it took, prints who holds
// it (the lease description names the host, pid and, under GitHub Actions, the run URL) and tries again
// until --wait-for-lock (default 2m) runs out; then it exits 2: "another deploy is working on <app>;
// nothing was changed". All leases are refreshed every (ttl - 1) / 3 s (flyctl: 13 s TTL, 4 s) and released
// at the end, also after a failure or an abort (Ctrl-C, SIGTERM of a cancelled CI job); a killed process's
// leases expire within the TTL.

import { hostname } from "node:os";
import type { FlyClient } from "../../lib/fly/client.ts";
import { isFlyApiError } from "../../lib/fly/errors.ts";
import type { Lease, Machine } from "../../lib/fly/types.ts";
import { DeployError, describeError } from "../deploy-error.ts";
import { parseGoDuration } from "../config/durations.ts";
import { sleep, throwIfAborted } from "../sleep.ts";
import { DEFAULT_PROCESS_GROUP, METADATA, RELEASE_COMMAND_GROUP } from "../machine/machine-config.ts";
import type { Output } from "../output.ts";
import { formatMs } from "../apply/waits.ts";

export const ANCHOR_NAME = "flightdeck-fleet-lock";
export const ANCHOR_ROLE_KEY = "flightdeck_role";
export const ANCHOR_ROLE = "fleet-lock";
/** A process group no fly.toml declares (flyctl validateNoDetachedBluegreenMachines looks at declared ones). */
export const ANCHOR_PROCESS_GROUP = "flightdeck_fleet_lock";
export const DEFAULT_WAIT_FOR_LOCK_MS = 120_000;
const DEFAULT_TTL_SECONDS = 13;
const CONSOLE_GROUP = "fly_app_console";

export interface FleetLockOptions {
  client: FlyClient;
  app: string;
  output: Output;
  /** What the run is (`deploy`, `scale`, `secrets set`...), for the lease description others see. */
  command: string;
  /** Image for the anchor when it must be created; default the image of a managed machine. */
  anchorImage?: string;
  /** Region for the anchor when it must be created; default the region of a managed machine, else Fly's. */
  anchorRegion?: string;
  /** How long to wait for someone else's lock (default 2 minutes). */
  waitForLockMs?: number;
  ttlSeconds?: number;
  signal?: AbortSignal;
  env?: Record<string, string | undefined>;
}

/** Who holds the lock, as their lease says it. */
export interface LockHolder {
  machineId: string;
  owner?: string;
  description?: string;
  expiresAt?: number;
}

/** The anchor machine, when the list shows one (machine id + name). */
export function isAnchor(machine: Pick<Machine, "name" | "config">): boolean {
  return machine.config?.metadata?.[ANCHOR_ROLE_KEY] === ANCHOR_ROLE || machine.name === ANCHOR_NAME;
}

/**
 * Machines whose changes the lock must cover: every live v2 machine that is not the anchor, a release-command
 * or a console machine (flyctl ListFlyAppsMachines), whatever its process group.
 */
export function isLockedMember(machine: Machine): boolean {
  if (machine.state === "destroyed" || machine.state === "destroying" || isAnchor(machine)) return false;
  const metadata = machine.config?.metadata ?? {};
  if (metadata[METADATA.platformVersion] !== "v2") return false;
  const group = metadata[METADATA.processGroup] ?? DEFAULT_PROCESS_GROUP;
  return group !== RELEASE_COMMAND_GROUP && group !== CONSOLE_GROUP;
}

/** `flightdeck deploy, host ci-7, pid 123, run https://github.com/o/r/actions/runs/9`: what a waiting run prints. */
export function leaseDescription(command: string, env: Record<string, string | undefined>): string {
  const parts = [`flightdeck ${command}`, `host ${hostname()}`, `pid ${process.pid}`];
  if (env.GITHUB_ACTIONS === "true" && env.GITHUB_REPOSITORY && env.GITHUB_RUN_ID) {
    parts.push(
      `run ${(env.GITHUB_SERVER_URL || "https://github.com").replace(/\/+$/, "")}/${env.GITHUB_REPOSITORY}/actions/runs/${env.GITHUB_RUN_ID}`,
    );
  }
  return parts.join(", ");
}

/** The lock, held: nonces for every leased machine, refreshed in the background until release(). */
export class FleetLock {
  private readonly nonces = new Map<string, string>();
  private timer: ReturnType<typeof setInterval> | undefined;
  private refreshing: Promise<unknown> = Promise.resolve();
  private released = false;
  private anchor: string | undefined;

  constructor(
    private readonly opts: FleetLockOptions,
    readonly description: string,
  ) {}

  /** The anchor machine whose lease is the app's mutex (undefined: an app without machines and no image). */
  get anchorId(): string | undefined {
    return this.anchor;
  }

  holdAnchor(machineId: string, nonce: string): void {
    this.anchor = machineId;
    this.nonces.set(machineId, nonce);
  }

  get ttlSeconds(): number {
    return this.opts.ttlSeconds ?? DEFAULT_TTL_SECONDS;
  }

  holds(machineId: string): boolean {
    return this.nonces.has(machineId);
  }

  /** The machines held (the anchor excluded). */
  members(): string[] {
    return [...this.nonces.keys()].filter((id) => id !== this.anchorId);
  }

  /** Records the lease of a machine this run created with `lease_ttl` (its nonce came with the create). */
  adopt(machineId: string, nonce: string): void {
    this.nonces.set(machineId, nonce);
  }

  /** Forgets a machine this run destroyed (its lease went with it). */
  forget(machineId: string): void {
    this.nonces.delete(machineId);
  }

  /**
   * The nonce for a write to `machineId`. A machine not held yet (created by a replayed create that came back
   * without a nonce, or one that appeared since) is leased now, without waiting: once this run has changed
   * something, a foreign lease is a failure to report, not a reason to stand by.
   */
  async nonce(machineId: string): Promise<string> {
    const held = this.nonces.get(machineId);
    if (held) return held;
    const taken = await takeLease(this.opts, machineId, this.description);
    if (!("nonce" in taken)) {
      const who =
        "holder" in taken
          ? `is leased by ${describeHolder(taken.holder)}: another deploy or tool is changing it`
          : "is gone";
      throw new DeployError("lease_held", `machine ${machineId} of ${this.opts.app} ${who}`, 1, { machineId });
    }
    this.nonces.set(machineId, taken.nonce);
    return taken.nonce;
  }

  startRefresh(): void {
    const ttlSeconds = this.ttlSeconds;
    this.timer = setInterval(
      () => {
        this.refreshing = Promise.all(
          [...this.nonces].map(([id, nonce]) =>
            this.opts.client.refreshLease(this.opts.app, id, nonce, { ttlSeconds }).catch((error: unknown) => {
              // A destroyed machine has no lease to refresh; anything else means the lock may lapse.
              if (isFlyApiError(error) && (error.status === 404 || error.status === 412)) return;
              this.opts.output.warn(`could not refresh the lease on machine ${id}: ${describeError(error)}`);
            }),
          ),
        );
      },
      Math.max(200, ((ttlSeconds - 1) * 1000) / 3),
    ); // flyctl's (ttl - 1 s) / 3, never a busy loop for 1 s leases
  }

  /**
   * The app was deleted and every lease with it (the anchor included): stops refreshing and forgets the
   * leases, so the release that follows sends nothing to machines that no longer exist.
   */
  abandon(): void {
    if (this.timer) clearInterval(this.timer);
    this.nonces.clear();
    this.anchor = undefined;
  }

  /**
   * Releases every lease at once (flyctl ReleaseLeases). A run that takes the anchor in the same instant may
   * still meet one of our machine leases for a round trip: it counts as busy and tries again shortly.
   */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    if (this.timer) clearInterval(this.timer);
    await this.refreshing;
    await Promise.all([...this.nonces].map(([id, nonce]) => releaseOne(this.opts, id, nonce)));
    this.nonces.clear();
  }
}

async function releaseOne(opts: FleetLockOptions, machineId: string, nonce: string): Promise<void> {
  // No abort signal: the release must go out even when the run itself was aborted.
  await opts.client.releaseLease(opts.app, machineId, nonce).catch((error: unknown) => {
    if (isFlyApiError(error) && error.status === 404) return;
    opts.output.warn(
      `could not release the lease on machine ${machineId} (it expires within ${opts.ttlSeconds ?? DEFAULT_TTL_SECONDS}s): ${describeError(error)}`,
    );
  });
}

type Taken = { nonce: string } | { holder: LockHolder } | { gone: true };

/** Takes one machine's lease: its nonce, who holds it, or "gone" (destroyed meanwhile: 404, or 412 on Fly). */
async function takeLease(opts: FleetLockOptions, machineId: string, description: string): Promise<Taken> {
  try {
    const lease = await opts.client.acquireLease(opts.app, machineId, {
      ttlSeconds: opts.ttlSeconds ?? DEFAULT_TTL_SECONDS,
      description,
      signal: opts.signal,
    });
    if (!lease.nonce) throw new DeployError("api_error", `lease on machine ${machineId} came back without a nonce`);
    return { nonce: lease.nonce };
  } catch (error) {
    if (isFlyApiError(error) && error.status === 409) return { holder: await holderOf(opts, machineId) };
    if (isFlyApiError(error) && (error.status === 404 || error.status === 412)) return { gone: true };
    throw error;
  }
}

async function holderOf(opts: FleetLockOptions, machineId: string): Promise<LockHolder> {
  const lease: Lease | undefined = await opts.client.getLease(opts.app, machineId).catch(() => undefined);
  return {
    machineId,
    ...(lease?.owner ? { owner: lease.owner } : {}),
    ...(lease?.description ? { description: lease.description } : {}),
    ...(lease?.expires_at ? { expiresAt: lease.expires_at } : {}),
  };
}

export function describeHolder(holder: LockHolder): string {
  const who = holder.description || "an unnamed lease";
  return `${who}${holder.owner ? ` (token of ${holder.owner})` : ""} on machine ${holder.machineId}`;
}

type Attempt = { held: FleetLock } | { busy: LockHolder } | { retry: string };

/**
 * Takes the fleet lock, waiting up to `waitForLockMs` for another holder. Throws DeployError exit 2 when the
 * wait runs out (nothing was changed) and `app_not_found` exit 2 when the app is gone (deleted meanwhile).
 */
export async function acquireFleetLock(opts: FleetLockOptions): Promise<FleetLock> {
  try {
    return await waitForLock(opts);
  } catch (error) {
    // Ctrl-C or a cancelled CI job while waiting: whatever was taken has been given back, nothing changed.
    if (opts.signal?.aborted || (error instanceof DeployError && error.code === "aborted")) {
      throw new DeployError(
        "aborted",
        `interrupted while waiting for the fleet lock of ${opts.app}; nothing was changed`,
        2,
        { app: opts.app },
      );
    }
    throw error;
  }
}

async function waitForLock(opts: FleetLockOptions): Promise<FleetLock> {
  const waitMs = opts.waitForLockMs ?? DEFAULT_WAIT_FOR_LOCK_MS;
  const deadline = Date.now() + waitMs;
  const description = leaseDescription(opts.command, opts.env ?? process.env);
  // Quick at first (a deploy that just finished frees the lock within a round trip), then about once a second:
  // each attempt is two or three reads and a lease POST, well inside Fly's per-machine rate limits.
  let delay = 100;
  let lastSaid = "";
  let holder: LockHolder | undefined;
  for (;;) {
    throwIfAborted(opts.signal);
    const attempt = await tryOnce(opts, description);
    if ("held" in attempt) {
      attempt.held.startRefresh();
      return attempt.held;
    }
    if ("busy" in attempt) {
      holder = attempt.busy;
      const said = `${opts.app} is locked by ${describeHolder(holder)}`;
      if (said !== lastSaid) {
        opts.output.step(`${said}; waiting up to ${formatMs(waitMs)} for it (--wait-for-lock)`);
        lastSaid = said;
      }
    }
    const pause = delay / 2 + Math.random() * delay;
    if (Date.now() + pause > deadline) break;
    await sleep(pause, opts.signal);
    delay = Math.min(delay * 2, 1000);
  }
  throw new DeployError(
    "lease_held",
    `another deploy is working on ${opts.app}; nothing was changed (held by ${holder ? describeHolder(holder) : "another run"}; waited ${formatMs(waitMs)}, see --wait-for-lock)`,
    2,
    { app: opts.app, ...(holder ? { holder } : {}) },
  );
}

/** Runs `work` holding the fleet lock; releases it afterwards whatever happened. */
export async function withFleetLock<T>(opts: FleetLockOptions, work: (lock: FleetLock) => Promise<T>): Promise<T> {
  const lock = await acquireFleetLock(opts);
  try {
    return await work(lock);
  } finally {
    await lock.release();
  }
}

async function listLive(opts: FleetLockOptions): Promise<Machine[]> {
  try {
    return (await opts.client.listMachines(opts.app, { signal: opts.signal })).filter(
      (m) => m.state !== "destroyed" && m.state !== "destroying",
    );
  } catch (error) {
    if (isFlyApiError(error) && error.status === 404) {
      throw new DeployError(
        "app_not_found",
        `app ${opts.app} does not exist (it was deleted while this run waited for it); nothing was changed`,
        2,
        { app: opts.app },
      );
    }
    throw error;
  }
}

async function tryOnce(opts: FleetLockOptions, description: string): Promise<Attempt> {
  const machines = await listLive(opts);
  const anchors = machines.filter(isAnchor).sort((a, b) => (a.id ?? "").localeCompare(b.id ?? ""));
  const members = machines.filter(isLockedMember);
  const lock = new FleetLock(opts, description);
  let createdAnchor = false;

  const image = opts.anchorImage ?? members[0]?.config?.image;
  if (anchors.length === 0 && image) {
    const made = await createAnchor(opts, image, opts.anchorRegion ?? members[0]?.region);
    if (made === "taken") return { retry: "the anchor was created by another run" };
    anchors.push(made);
    createdAnchor = true;
  }
  if (anchors.length > 0) {
    const anchorId = anchors[0]!.id ?? "";
    const taken = await takeLease(opts, anchorId, description);
    if ("gone" in taken) return { retry: "the anchor went away" };
    if ("holder" in taken) return { busy: taken.holder };
    lock.holdAnchor(anchorId, taken.nonce);
  }

  // From here on every way out releases what was taken.
  try {
    let pending = members;
    for (let round = 0; round < 3; round++) {
      const results = await Promise.all(
        pending.map(async (m) => [m.id ?? "", await takeLease(opts, m.id ?? "", description)] as const),
      );
      let busy: LockHolder | undefined;
      for (const [id, result] of results) {
        if ("nonce" in result) lock.adopt(id, result.nonce);
        else if ("holder" in result) busy ??= result.holder;
      }
      if (busy) {
        await lock.release();
        return { busy };
      }
      // Closure: every member the list shows now is held, and ours is the only anchor (a server that does
      // not enforce unique names could have let two runs create one each: both step back).
      const now = await listLive(opts);
      if (lock.anchorId && now.filter(isAnchor).length > 1) {
        if (createdAnchor) await destroyOwnAnchor(opts, lock);
        await lock.release();
        return { retry: "more than one anchor machine exists" };
      }
      pending = now.filter((m) => isLockedMember(m) && !lock.holds(m.id ?? ""));
      if (pending.length === 0) return { held: lock };
    }
    await lock.release();
    return { retry: "machines keep appearing" };
  } catch (error) {
    await lock.release();
    throw error;
  }
}

async function createAnchor(
  opts: FleetLockOptions,
  image: string,
  region: string | undefined,
): Promise<Machine | "taken"> {
  try {
    const machine = await opts.client.createMachine(
      opts.app,
      {
        name: ANCHOR_NAME,
        ...(region ? { region } : {}),
        skip_launch: true,
        config: {
          image,
          // Never started; if someone starts it by hand it exits and stays down.
          restart: { policy: "no" },
          guest: { cpu_kind: "shared", cpus: 1, memory_mb: 256 },
          metadata: { [ANCHOR_ROLE_KEY]: ANCHOR_ROLE, [METADATA.processGroup]: ANCHOR_PROCESS_GROUP },
        },
      },
      { signal: opts.signal },
    );
    opts.output.step(
      `created the fleet lock machine ${machine.id} of ${opts.app} (never started; its lease serialises deploys)`,
    );
    return machine;
  } catch (error) {
    // Name taken (409 from Fly, 422 from some servers): another run made it first.
    if (isFlyApiError(error) && (error.status === 409 || error.status === 422)) return "taken";
    throw error;
  }
}

async function destroyOwnAnchor(opts: FleetLockOptions, lock: FleetLock): Promise<void> {
  const anchorId = lock.anchorId ?? "";
  const nonce = await lock.nonce(anchorId);
  await opts.client.destroyMachine(opts.app, anchorId, { force: true, leaseNonce: nonce }).catch(() => undefined);
  lock.forget(anchorId);
}

/** `--wait-for-lock DURATION` (Go duration: "2m", "30s", "0s"): milliseconds, or undefined when it is not one. */
export function parseWaitForLock(text: string): number | undefined {
  const ms = parseGoDuration(text);
  return ms === null ? undefined : ms;
}
