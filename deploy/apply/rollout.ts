// The shared vocabulary of the strategies: one machine update (with the fleet lock's nonce, then the waits),
// one machine create (leased from birth), and the journal of what this run changed so a failure can put it back.

import type { FlyClient } from "../../lib/fly/client.ts";
import { isFlyApiError } from "../../lib/fly/errors.ts";
import type { CreateMachineRequest, Machine, MachineConfig } from "../../lib/fly/types.ts";
import { DeployError } from "../deploy-error.ts";
import type { FleetLock } from "../fleet/lock.ts";
import type { LogsClient } from "../../lib/fly/logs.ts";
import { METADATA } from "../machine/machine-config.ts";
import type { Output } from "../output.ts";
import { sleep } from "../sleep.ts";
import { LAUNCH_ID_KEY, launchIdOf, newLaunchId, withLaunchId } from "../machine/launch-id.ts";
import { isLive } from "../fleet/members.ts";
import { expectedCheckCount, notYetVisible, waitHealthy, waitStarted } from "./waits.ts";

export interface RolloutContext {
  client: FlyClient;
  app: string;
  output: Output;
  signal?: AbortSignal;
  waitTimeoutMs: number;
  /** < 1: a fraction of the machines; >= 1: a count (flyctl max_unavailable). */
  maxUnavailable: number;
  minSecretsVersion?: number;
  /** The fleet lock this run holds: every write to a machine carries its nonce. */
  lock: FleetLock;
  pollMs?: number;
  journal: Journal;
  /** Unique per run: in the names of created machines, so a person can tell which run made one. */
  runId: string;
  /** Fly's logs endpoint, for the last lines of a failed release command; without it the failure has none. */
  logs?: Pick<LogsClient, "getAppLogs">;
}

/** One existing machine moving to a new config. `previous` is what it ran before, for rollback. */
export interface MachineUpdate {
  machineId: string;
  region: string;
  /** flyctl shouldSkipLaunch: a machine the proxy stopped gets the new config and stays stopped. */
  skipLaunch: boolean;
  config: MachineConfig;
  previous?: MachineConfig;
  previousState: string;
  /** Cordoned by a person (no flightdeck_cordon mark): it takes no traffic already and must stay cordoned. */
  handCordoned?: boolean;
}

/** One machine to create (fresh capacity, a bluegreen green, a canary). */
export interface MachineCreate {
  ref: string;
  region: string;
  config: MachineConfig;
  skipLaunch?: boolean;
  skipServiceRegistration?: boolean;
}

export class Journal {
  /** Existing machines sent a new config in this run, in order. */
  readonly updated: MachineUpdate[] = [];
  /** Machines this run created. */
  readonly created: { id: string; ref: string }[] = [];
  readonly destroyed: string[] = [];
  /** Machines this run took out of the proxy's rotation and has not put back yet (rollback puts them back). */
  readonly cordoned = new Set<string>();
  mutations = 0;
}

export function batchSize(total: number, maxUnavailable: number): number {
  if (maxUnavailable >= 1) return Math.max(1, Math.floor(maxUnavailable));
  return Math.max(1, Math.ceil(total * maxUnavailable));
}

/** Waits for a machine the deploy just launched: started, then every check passing (flyctl §2.6). */
export async function waitReady(
  ctx: RolloutContext,
  machineId: string,
  config: MachineConfig,
  version?: string,
): Promise<void> {
  const waitCtx = { client: ctx.client, app: ctx.app, signal: ctx.signal, pollMs: ctx.pollMs };
  const started = Date.now();
  await waitStarted(waitCtx, machineId, { timeoutMs: ctx.waitTimeoutMs, version });
  const left = Math.max(1, ctx.waitTimeoutMs - (Date.now() - started));
  await waitHealthy(waitCtx, machineId, { timeoutMs: left, expectedChecks: expectedCheckCount(config), version });
}

export async function updateMachine(
  ctx: RolloutContext,
  update: MachineUpdate,
  opts: { wait: boolean },
): Promise<Machine> {
  const nonce = await ctx.lock.nonce(update.machineId);
  // Journalled before the call: if the response is lost the update may still have happened, and
  // restoring a machine that did not move is harmless.
  ctx.journal.updated.push(update);
  ctx.journal.mutations++;
  const machine = await ctx.client.updateMachine(
    ctx.app,
    update.machineId,
    {
      config: withCordonMark(ctx.journal, update.machineId, update.config),
      skip_launch: update.skipLaunch,
      ...(ctx.minSecretsVersion !== undefined ? { min_secrets_version: ctx.minSecretsVersion } : {}),
    },
    { leaseNonce: nonce, signal: ctx.signal },
  );
  ctx.output.step(
    `updated machine ${update.machineId}${update.skipLaunch ? ` (${update.previousState}, stays ${update.previousState})` : ""}`,
  );
  if (opts.wait && !update.skipLaunch) {
    await waitReady(ctx, update.machineId, update.config, await versionOf(ctx, update.machineId, machine));
    ctx.output.step(`machine ${update.machineId} is started and healthy`);
  }
  return machine;
}

/**
 * The version a write created, which the waits must wait on (the old version is `started` too). `version` is
 * optional in the spec's Machine: when the answer leaves it out, the machine is asked.
 */
async function versionOf(ctx: RolloutContext, machineId: string, answer: Machine): Promise<string | undefined> {
  if (answer.version) return answer.version;
  return (await ctx.client.getMachine(ctx.app, machineId, { signal: ctx.signal })).version;
}

export async function createMachine(
  ctx: RolloutContext,
  create: MachineCreate,
  opts: { wait: boolean },
): Promise<Machine> {
  ctx.journal.mutations++;
  const name = `${ctx.app.slice(0, 30)}-${ctx.runId}-${create.ref}`;
  const launchId = newLaunchId();
  const machine = await createOnce(ctx, launchId, {
    name,
    region: create.region,
    config: withLaunchId(create.config, launchId),
    ...(create.skipLaunch ? { skip_launch: true } : {}),
    ...(create.skipServiceRegistration ? { skip_service_registration: true } : {}),
    ...(ctx.minSecretsVersion !== undefined ? { min_secrets_version: ctx.minSecretsVersion } : {}),
  });
  const id = machine.id ?? "";
  // Without an id nothing more can be done with it, nor can it be rolled back: say so rather than guess.
  if (!id)
    throw new DeployError(
      "api_error",
      `machine create for ${create.ref} answered without a machine id; list the app's machines (bun deploy/run.ts status) and run deploy again`,
      1,
    );
  ctx.journal.created.push({ id, ref: create.ref });
  // Leased right after the create, not with `lease_ttl` (flyctl's way): a create whose answer was lost is
  // recovered by its launch id (createOnce) without its nonce, and its lease would lock us out of our own
  // machine for a TTL. Between the two calls nobody else can take it: the anchor keeps Flightdeck runs out,
  // and the machine's name is this run's.
  await ctx.lock.nonce(id);
  ctx.output.step(`created machine ${id} in ${machine.region ?? create.region}`);
  if (opts.wait && !create.skipLaunch) {
    await waitReady(ctx, id, create.config, await versionOf(ctx, id, machine));
    ctx.output.step(`machine ${id} is started and healthy`);
  }
  return machine;
}

/** How long a create whose answer was lost is looked for in the (lagging) list before it is made again. */
const LOST_CREATE_SEARCH_MS = 10_000;
/** A create is sent at most this often, and only again when its launch id was looked for and not found. */
const CREATE_ATTEMPTS = 2;

/**
 * One create, never two machines. After an ambiguous answer (no answer, a timeout, a 5xx) or a 409 for our own
 * name, the machine may exist: the list is eventually consistent (fly-machines-api.md §2), so look for the
 * create's launch id (machine/launch-id.ts) for a while; only when nothing carries it is the same create (same
 * name, same launch id) sent again. The client's own recovery is off: it looks once, and may look too early.
 */
async function createOnce(
  ctx: RolloutContext,
  launchId: string,
  input: CreateMachineRequest & { config: MachineConfig },
): Promise<Machine> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await ctx.client.createMachine(ctx.app, input, { signal: ctx.signal, recoveries: 0 });
    } catch (error) {
      if (!isAmbiguousCreate(error)) throw error;
      const found = await findByLaunchId(ctx, launchId);
      if (found) {
        ctx.output.step(`the create of ${input.name} got no clear answer; found it by its launch id as ${found.id}`);
        return found;
      }
      if (attempt >= CREATE_ATTEMPTS) throw error;
      ctx.output.step(`the create of ${input.name} got no clear answer and no machine carries its launch id; again`);
    }
  }
}

function isAmbiguousCreate(error: unknown): boolean {
  if (!isFlyApiError(error)) return false;
  const status = error.status;
  return status === 0 || status === 408 || status === 409 || status >= 500 || error.code === "timeout";
}

/**
 * The machine a create made, by its launch id: the list (filtered on the metadata, and checked here too, in
 * case a server ignores the filter), then the machine by id, whose answer is current where the list may not
 * be. Undefined when the search ran out.
 */
async function findByLaunchId(ctx: RolloutContext, launchId: string): Promise<Machine | undefined> {
  const deadline = Date.now() + Math.min(ctx.waitTimeoutMs, LOST_CREATE_SEARCH_MS);
  let delay = ctx.pollMs ?? 100;
  for (;;) {
    const listed = await ctx.client.listMachines(ctx.app, {
      metadata: { [LAUNCH_ID_KEY]: launchId },
      signal: ctx.signal,
    });
    const candidate = listed.find((m) => launchIdOf(m) === launchId && m.id && isLive(m));
    if (candidate?.id) {
      const current = await ctx.client
        .getMachine(ctx.app, candidate.id, { signal: ctx.signal })
        .catch((error: unknown) => notYetVisible(error, Date.now()));
      if (current && launchIdOf(current) === launchId && isLive(current)) return current;
    }
    if (Date.now() + delay > deadline) return undefined;
    await sleep(delay, ctx.signal);
    delay = Math.min(delay * 2, 1000);
  }
}

export async function destroyMachine(ctx: RolloutContext, machineId: string): Promise<void> {
  const nonce = await ctx.lock.nonce(machineId);
  ctx.journal.mutations++;
  await ctx.client.destroyMachine(ctx.app, machineId, { force: true, leaseNonce: nonce, signal: ctx.signal });
  ctx.lock.forget(machineId);
  ctx.journal.destroyed.push(machineId);
  // Its volume is free for reuse only once the machine is gone; waiting also keeps the result honest.
  await ctx.client
    .waitForMachineState(ctx.app, machineId, { state: "destroyed", timeoutMs: ctx.waitTimeoutMs, signal: ctx.signal })
    .catch((error: unknown) => {
      if (!(isFlyApiError(error) && error.status === 404)) throw error;
    });
  ctx.output.step(`destroyed machine ${machineId}`);
}

/**
 * Takes a machine out of the proxy's rotation (Machines API cordon) before it is stopped for an update, so
 * requests go to the machines that keep serving instead of to one about to get SIGTERM. Journalled before
 * the call: a lost answer may still have cordoned it, and an extra uncordon is harmless.
 *
 * The flightdeck_cordon mark goes on first, the cordon second: a run stopped between the two leaves a mark
 * without a cordon (the next plan clears it), never a cordon of ours without the mark, which the next run
 * would take for a person's and leave in place.
 */
export async function cordonMachine(ctx: RolloutContext, machineId: string): Promise<void> {
  const nonce = await ctx.lock.nonce(machineId);
  ctx.journal.cordoned.add(machineId);
  ctx.journal.mutations++;
  await ctx.client.setMetadata(ctx.app, machineId, METADATA.deployCordon, CORDON_MARK, {
    leaseNonce: nonce,
    signal: ctx.signal,
  });
  await ctx.client.cordonMachine(ctx.app, machineId, { leaseNonce: nonce, signal: ctx.signal });
}

/**
 * Puts a machine back into rotation. Called explicitly once it is healthy: no Fly document says that an
 * update or a start clears the cordon, so the deploy does not rely on it.
 */
export async function uncordonMachine(ctx: RolloutContext, machineId: string): Promise<void> {
  const nonce = await ctx.lock.nonce(machineId);
  ctx.journal.mutations++;
  await releaseCordon(ctx.client, ctx.app, machineId, { leaseNonce: nonce, signal: ctx.signal });
  ctx.journal.cordoned.delete(machineId);
}

/** A machine cordoned without the flightdeck_cordon mark: a person's cordon, which strategies leave in place. */
export function cordonedByHand(machine: Pick<Machine, "cordoned" | "config">): boolean {
  return machine.cordoned === true && machine.config?.metadata?.[METADATA.deployCordon] === undefined;
}

/** metadata flightdeck_cordon's value; any value counts as the mark (observe.ts). */
export const CORDON_MARK = "deploy";

/**
 * Uncordon, then remove the mark: in that order, so a run stopped between the two leaves a mark without a
 * cordon (cleared by the next plan) rather than a cordon of ours that looks like a person's. A mark already
 * gone (404) is what was asked for.
 */
export async function releaseCordon(
  client: FlyClient,
  app: string,
  machineId: string,
  opts: { leaseNonce: string; signal?: AbortSignal },
): Promise<void> {
  await client.uncordonMachine(app, machineId, opts);
  await clearCordonMark(client, app, machineId, opts);
}

export async function clearCordonMark(
  client: FlyClient,
  app: string,
  machineId: string,
  opts: { leaseNonce: string; signal?: AbortSignal },
): Promise<void> {
  await client.deleteMetadata(app, machineId, METADATA.deployCordon, opts).catch((error: unknown) => {
    if (!(isFlyApiError(error) && error.status === 404)) throw error;
  });
}

/**
 * An update replaces the machine's metadata with the config's (Machines API update), which would drop the mark
 * while the machine is still cordoned: a machine this run holds cordoned keeps it in the config it is sent.
 */
export function withCordonMark(journal: Journal, machineId: string, config: MachineConfig): MachineConfig {
  if (!journal.cordoned.has(machineId)) return config;
  return { ...config, metadata: { ...config.metadata, [METADATA.deployCordon]: CORDON_MARK } };
}

/**
 * Runs `work` over `items` with at most `limit` in flight. Every started item is allowed to finish (so its
 * lease is released and the journal is complete) before the first error is rethrown; no new item starts
 * after a failure — flyctl cancels the rest of a rollout the same way.
 */
export async function pool<T>(items: readonly T[], limit: number, work: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (!failure && next < items.length) {
      const item = items[next++] as T;
      try {
        await work(item);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (failure) throw failure.error;
}

/**
 * The API answers `autostop` "off"/"stop" as false/true (spec, fly.MachineService.autostop); the request
 * schema is the string enum, so a live config sent back (rollback, secrets roll) is normalised first.
 */
export function requestConfig(config: MachineConfig): MachineConfig {
  const copy = structuredClone(config);
  for (const service of copy.services ?? []) {
    const autostop = service.autostop as unknown;
    if (autostop === true) service.autostop = "stop";
    if (autostop === false) service.autostop = "off";
  }
  return copy;
}
