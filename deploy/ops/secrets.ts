// App secrets: write them (creating the app when it does not exist yet, so a first deploy can be prepared),
// then roll the machines with an update so they pick the new version up. flyctl's DeploySecrets does the
// same: each machine keeps its own config, gets the new min_secrets_version, and stopped machines stay
// stopped (flyctl-behaviours.md §4.3). A plain restart is not enough (§8).

import { checkProductionSecrets } from "../../lib/config.ts";
import type { FlyClient } from "../../lib/fly/client.ts";
import { isFlyApiError } from "../../lib/fly/errors.ts";
import { type FleetLock, withFleetLock } from "../fleet/lock.ts";
import type { DeployConfig } from "../config/flytoml.ts";
import { processNames } from "../config/flytoml-groups.ts";
import { METADATA } from "../machine/machine-config.ts";
import { observe } from "../fleet/observe.ts";
import type { Output } from "../output.ts";
import { cordonedByHand, Journal, type MachineUpdate, requestConfig, type RolloutContext } from "../apply/rollout.ts";
import { STRATEGY_RUNNERS } from "../apply/strategies/index.ts";
import { verifySecretsRoll } from "../fleet/verify.ts";
import { readSettled } from "../fleet/settle.ts";
import { DeployError } from "../deploy-error.ts";
import { groupOfApiMachine } from "../fleet/members.ts";
import { encodeSecretDigests, SECRETS_KEY } from "../plan/secrets-diff.ts";

export interface SecretsContext {
  client: FlyClient;
  config: DeployConfig;
  output: Output;
  org: string;
  signal?: AbortSignal;
  pollMs?: number;
  /** How long to wait for another run's fleet lock (--wait-for-lock; default 2 minutes). */
  waitForLockMs?: number;
  env?: Record<string, string | undefined>;
}

export interface SecretsChange {
  version: number;
  createdApp: boolean;
  rolled: string[];
}

export async function ensureApp(client: FlyClient, app: string, org: string, output: Output): Promise<boolean> {
  try {
    await client.getApp(app);
    return false;
  } catch (error) {
    if (!(isFlyApiError(error) && error.status === 404)) throw error;
  }
  output.step(`app ${app} does not exist yet: creating it in org ${org}`);
  await client.createApp({ name: app, org_slug: org });
  return true;
}

// The write and the roll both happen under the fleet lock (fleet-lock.ts), so a secrets roll never interleaves
// with a deploy: a deploy that planned with the old secrets version cannot update machines after the roll.
function lockFor(ctx: SecretsContext, command: string) {
  return {
    client: ctx.client,
    app: ctx.config.app,
    output: ctx.output,
    command,
    ...(ctx.waitForLockMs !== undefined ? { waitForLockMs: ctx.waitForLockMs } : {}),
    ...(ctx.signal ? { signal: ctx.signal } : {}),
    env: ctx.env ?? process.env,
  };
}

export async function setSecrets(ctx: SecretsContext, values: Record<string, string>): Promise<SecretsChange> {
  const app = ctx.config.app;
  const createdApp = await ensureApp(ctx.client, app, ctx.org, ctx.output);
  return withFleetLock(lockFor(ctx, "secrets set"), async (lock) => {
    const { version } = await ctx.client.setSecrets(app, values, { signal: ctx.signal });
    ctx.output.step(`set ${Object.keys(values).sort().join(", ")} on ${app} (secrets version ${version})`);
    return { version, createdApp, rolled: await rollMachines(ctx, lock, version) };
  });
}

export async function unsetSecrets(ctx: SecretsContext, names: string[]): Promise<SecretsChange> {
  const app = ctx.config.app;
  return withFleetLock(lockFor(ctx, "secrets unset"), async (lock) => {
    const { version } = await ctx.client.unsetSecrets(app, names, { signal: ctx.signal });
    ctx.output.step(`unset ${names.join(", ")} on ${app} (secrets version ${version})`);
    return { version, createdApp: false, rolled: await rollMachines(ctx, lock, version) };
  });
}

/** Updates every managed machine (every process group of fly.toml) with its own config and the new secrets version, using the app's strategy. */
export async function rollMachines(ctx: SecretsContext, lock: FleetLock, version: number): Promise<string[]> {
  const app = ctx.config.app;
  const observed = await observe(ctx.client, app, { signal: ctx.signal });
  const updates: MachineUpdate[] = [];
  const groups = processNames(ctx.config);
  for (const m of observed.machines) {
    const metadata = m.config?.metadata ?? {};
    if (metadata[METADATA.platformVersion] !== "v2" || !groups.includes(groupOfApiMachine(m)) || !m.config) continue;
    const previous = requestConfig(m.config);
    const config = structuredClone(previous);
    // What the machine is given now, by name and digest, for the next plan's diff (plan/secrets-diff.ts).
    const given = encodeSecretDigests(observed.state.secrets);
    config.metadata = { ...config.metadata, [METADATA.secretsVersion]: String(version), [SECRETS_KEY]: given };
    const launched = m.state === "started" || m.state === "starting" || m.state === "failed";
    // A person's cordon stays: the strategy updates such a machine without cordoning or uncordoning it.
    updates.push({
      machineId: m.id ?? "",
      region: m.region ?? "",
      skipLaunch: !launched,
      config,
      previous,
      previousState: m.state ?? "",
      ...(cordonedByHand(m) ? { handCordoned: true } : {}),
    });
  }
  if (updates.length === 0) {
    ctx.output.step("no machines yet: the secrets are staged for the first deploy");
    return [];
  }
  // Bluegreen/canary would create machines just to restart with new secrets; a rolling update is enough.
  const strategy = ctx.config.deploy.strategy === "immediate" ? "immediate" : "rolling";
  const rollout: RolloutContext = {
    client: ctx.client,
    app,
    output: ctx.output,
    signal: ctx.signal,
    waitTimeoutMs: ctx.config.deploy.waitTimeoutMs,
    maxUnavailable: ctx.config.deploy.maxUnavailable,
    minSecretsVersion: version,
    lock,
    pollMs: ctx.pollMs,
    journal: new Journal(),
    runId: Math.random().toString(36).slice(2, 8),
  };
  await ctx.output.group(`rolling ${updates.length} machine(s) onto secrets version ${version}`, () =>
    STRATEGY_RUNNERS[strategy](
      updates.sort((a, b) => a.machineId.localeCompare(b.machineId)),
      rollout,
    ),
  );
  const rolled = updates.map((u) => u.machineId);
  // Exit 0 only for a roll re-read and seen (DESIGN.md): every machine on the new version, none failed.
  // Judged where each machine lands, not mid-restart (settle.ts), within wait_timeout.
  const settleCtx = {
    client: ctx.client,
    app,
    timeoutMs: ctx.config.deploy.waitTimeoutMs,
    ...(ctx.signal ? { signal: ctx.signal } : {}),
  };
  const known = { ids: new Set(rolled), destroyed: new Set<string>() };
  const after = await readSettled(
    settleCtx,
    () => observe(ctx.client, app, { signal: ctx.signal, known }),
    (read) => read.state.machines,
  );
  const problems = verifySecretsRoll(after.state, rolled, version);
  if (problems.length > 0) {
    throw new DeployError(
      "rollout_failed",
      `secrets version ${version} of ${app} is written, but the machines did not all pick it up:\n${problems.map((p) => `- ${p}`).join("\n")}`,
      1,
      { app },
    );
  }
  return rolled;
}

/** Exit 2 before any write when a production app would refuse to boot on these values (set and import). */
export function refuseSecretsProductionRejects(config: DeployConfig, values: Record<string, string>): void {
  if (config.env.APP_ENV !== "production") return;
  // Only the rules for the names being set: the others' values are not known here.
  const problems = checkProductionSecrets(values).filter((p) => Object.hasOwn(values, p.setting));
  if (problems.length > 0) {
    throw new DeployError(
      "preflight_failed",
      `refusing to set secrets that production would reject (nothing was changed):\n${problems.map((p) => `- ${p.setting}: ${p.problem}; ${p.fix}`).join("\n")}`,
      2,
    );
  }
}
