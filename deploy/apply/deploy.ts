// deploy = observe -> plan -> lock -> observe -> plan -> apply -> re-read -> verify, as a library call (the CLI
// and previews both use it). Preflight lives here too: nothing is changed until the plan has no problems and
// the strategy is possible. The first plan decides whether anything must change at all (a no-op takes no lock
// and makes no mutating call); a mutating run then takes the fleet lock (fleet-lock.ts) and plans again,
// because the run it may have waited for changed the fleet. After applying it re-reads the fleet, converges
// once more if the fleet is not what the plan aimed for, and reports success only for a verified fleet
// (verify.ts); the outcome goes into the release history on the machines (releases.ts).

import type { FlyClient } from "../../lib/fly/client.ts";
import type { LogsClient } from "../../lib/fly/logs.ts";
import { REQUIRED_PRODUCTION_SECRETS } from "../../lib/config.ts";
import { applyPlan } from "./apply.ts";
import { createAppOnce } from "./create-app.ts";
import { DeployError } from "../deploy-error.ts";
import { type FleetLock, withFleetLock } from "../fleet/lock.ts";
import type { DeployConfig, Strategy } from "../config/flytoml.ts";
import type { ImageBuilder } from "../image/source.ts";
import { regionFor } from "../machine/desired.ts";
import { planForConfig, type PlanMode, scaleImage } from "../plan/from-config.ts";
import { appUrl } from "../config/public-address.ts";
import { appVersionOf, nextRelease } from "./release-number.ts";
import { type KnownMachines, type ObservedApp, observe } from "../fleet/observe.ts";
import type { Journal } from "./rollout.ts";
import { createOutput, type Output } from "../output.ts";
import type { Plan } from "../plan/types.ts";
import { explainPlan } from "../plan/explain.ts";
import { formatPlan } from "../plan/format.ts";
import {
  encodeReleases,
  historyAfter,
  releaseHistory,
  RELEASES_KEY,
  writeReleases,
  type ReleaseNote,
  type ReleaseOutcome,
  type ReleaseRecord,
} from "../fleet/releases.ts";
import { strategyProblems } from "./strategies/index.ts";
import { encodeSecretDigests, SECRETS_KEY } from "../plan/secrets-diff.ts";
import type { VerifiedMachine } from "../fleet/verify.ts";
import { verifyGroups } from "../fleet/verify-groups.ts";
import { isTransient, readSettled } from "../fleet/settle.ts";

export interface DeployOptions {
  client: FlyClient;
  /** Machines this run made, changed or destroyed: the re-read after apply reconciles the list with them. */
  known?: KnownMachines;
  config: DeployConfig;
  /**
   * Image to deploy; default `[build] image`, else the one `build` builds and pushes, else (no `build`: library
   * callers such as scale) the image the fleet runs now, i.e. a config-only deploy.
   */
  image?: string;
  /** Builds and pushes the image when neither `image` nor `[build] image` is set (the CLI passes daemonlessBuilder). */
  build?: ImageBuilder;
  /** The build context for `build`; default the working directory. */
  projectDir?: string;
  strategy?: Strategy;
  /** `--region`: where new machines go when fly.toml has no primary_region. */
  region?: string;
  /**
   * Default: the fleet size recorded on the machines by the last deploy or scale (recordedFleetSize), 5 for a
   * new app; previews pass 1, scale passes --count.
   */
  machineCount?: number;
  /** Secret names that must exist; default REQUIRED_PRODUCTION_SECRETS when `[env] APP_ENV = "production"`. */
  requiredSecrets?: readonly string[];
  /** Default FLY_ORG, else "personal". */
  org?: string;
  /** The version returned by a secrets write made just before (sent as min_secrets_version). */
  secretsVersion?: number;
  output?: Output;
  signal?: AbortSignal;
  /** How long to wait for another run's fleet lock (--wait-for-lock; default 2 minutes). */
  waitForLockMs?: number;
  /**
   * The fleet lock, when the caller already holds it for a longer operation (preview up: secrets, deploy and
   * the readiness wait under one lock). Default: runDeploy takes it itself when there is something to change.
   */
  lock?: FleetLock;
  /** Fly's logs endpoint: a failed release command is reported with its machine's last log lines. */
  logs?: Pick<LogsClient, "getAppLogs">;
  skipStandbyCheck?: boolean; // --skip-standby-check: no start test of updated standbys (standby-check.ts)
  note?: ReleaseNote; // who runs it and why, recorded in the release history (releases.ts)
  /** Test/bench knobs. */
  leaseTtlSeconds?: number;
  pollMs?: number;
  env?: Record<string, string | undefined>;
}

export interface DeployedMachine {
  id: string;
  region: string;
  state: string;
  image: string;
}

export interface DeployResult {
  app: string;
  url: string | null;
  image: string;
  release: number;
  machines: DeployedMachine[];
  plan: Plan;
  /** False when the plan was a no-op (zero mutating calls were made). */
  changed: boolean;
}

export interface PreparedDeploy {
  observed: ObservedApp;
  plan: Plan;
  image: string;
  release: number;
  appVersion: string;
  secretsVersion?: number;
}

export type { PlanMode };

/** Reads the app and computes the plan. Read-only. */
export async function prepareDeploy(
  options: DeployOptions,
  mode: PlanMode = { kind: "deploy" },
): Promise<PreparedDeploy> {
  const cfg = options.config;
  const observed = await observe(options.client, cfg.app, {
    signal: options.signal,
    ...(options.known ? { known: options.known } : {}),
  });
  let image: string | undefined;
  if (mode.kind === "rollback") image = mode.image;
  else if (mode.kind === "scale")
    image = scaleImage(cfg, observed.state, mode.group) ?? options.image ?? cfg.build.image;
  else image = options.image ?? cfg.build.image ?? scaleImage(cfg, observed.state);
  if (!image) {
    throw new DeployError(
      "preflight_failed",
      `no image to deploy to ${cfg.app}: pass --image REF (e.g. the reference printed by \`bun deploy/run.ts image build --push\`) or set [build] image in the config`,
      2,
      { app: cfg.app },
    );
  }
  const secretsVersion = options.secretsVersion ?? observed.state.secrets.version;
  const state =
    options.secretsVersion !== undefined
      ? { ...observed.state, secrets: { ...observed.state.secrets, version: options.secretsVersion } }
      : observed.state;
  const appVersion = appVersionOf(image);
  const release = nextRelease(observed);
  const env = options.env ?? process.env;
  const region = regionFor(cfg, state, options.region);
  if (!region) {
    throw new DeployError(
      "preflight_failed",
      `${cfg.app} has no machines yet and fly.toml has no primary_region: pass --region (e.g. --region ewr), or set primary_region in fly.toml`,
      2,
      { app: cfg.app },
    );
  }
  const strategy = options.strategy ?? cfg.deploy.strategy;
  const plan = planForConfig(
    cfg,
    state,
    {
      image,
      org: options.org ?? (env.FLY_ORG || "personal"),
      region,
      requiredSecrets: options.requiredSecrets ?? (cfg.env.APP_ENV === "production" ? REQUIRED_PRODUCTION_SECRETS : []),
      appVersion,
      strategy,
      ...(options.machineCount !== undefined ? { machineCount: options.machineCount } : {}),
      ...(secretsVersion !== undefined ? { secretsVersion } : {}),
    },
    mode,
  );
  for (const problem of strategyProblems(strategy, cfg))
    plan.problems.push({ code: "strategy_refused", message: problem });
  return {
    observed,
    plan: explainPlan(plan, cfg, observed.machines, { appVersion, secrets: state.secrets }),
    image,
    release: plan.mutating ? release : Math.max(1, release - 1),
    appVersion,
    ...(secretsVersion !== undefined ? { secretsVersion } : {}),
  };
}

/**
 * Plans, locks, applies and verifies. Throws DeployError (exitCode 2: nothing changed, including "another
 * deploy is working on <app>"; 1: failed, the message has the fleet's state).
 */
export async function runDeploy(options: DeployOptions, mode: PlanMode = { kind: "deploy" }): Promise<DeployResult> {
  const output = options.output ?? createOutput({ env: {}, stdout: () => {}, stderr: () => {} }, { json: false });
  const cfg = options.config;
  if (needsBuild(options, mode) && options.build) {
    // Preflight first (token, secrets, strategy): a deploy that would be refused neither builds nor pushes.
    // The placeholder image only feeds the digest of a plan that is checked for problems and thrown away.
    // The build runs outside the fleet lock: it can take minutes and changes nothing on the app.
    const preflight = await output.group(`preflight ${cfg.app}`, () =>
      prepareDeploy({ ...options, image: PLACEHOLDER_IMAGE }, mode),
    );
    refuseProblems(cfg, preflight.plan);
    const build = options.build;
    const env = options.env ?? process.env;
    const image = await output.group(`image for ${cfg.app}`, () =>
      build({ app: cfg.app, projectDir: options.projectDir ?? process.cwd(), env, output }),
    );
    options = { ...options, image };
  }
  const first = await output.group(`planning ${cfg.app}`, () => prepareDeploy(options, mode));
  for (const warning of first.plan.warnings) output.warn(warning);
  refuseProblems(cfg, first.plan);
  // Nothing to change and the fleet verified as read: done, with no lock and no write. A fleet that does not
  // verify (a machine mid-replacement by another run, say) is looked at again under the lock.
  if (!first.plan.mutating) {
    // A machine mid-transition (autostart, someone's restart) is read again once it settled, not judged now.
    const settled = hasTransient(first) ? await settledRead(options, mode, options.image, first) : first;
    if (!settled.plan.mutating && verifyGroups(settled.observed.state, settled.plan.target, cfg).ok)
      return unchanged(cfg, settled, output);
  }
  const underLock = async (lock: FleetLock) => {
    let prepared = await prepareDeploy(options, mode);
    refuseProblems(cfg, prepared.plan);
    if (!prepared.plan.mutating) {
      // Nothing to change as read, but a machine on its way somewhere is judged where it lands (settle.ts).
      prepared = await settledRead(options, mode, options.image, prepared);
      refuseProblems(cfg, prepared.plan);
      if (!prepared.plan.mutating) return unchanged(cfg, prepared, output);
    }
    if (JSON.stringify(prepared.plan.actions) !== JSON.stringify(first.plan.actions)) {
      output.step("the app changed while this run waited for the lock; the plan now is:");
      showPlan(prepared.plan, output);
    }
    return applyVerified(options, mode, prepared, lock, output);
  };
  // The plan goes to stderr before the first write (issue 21), so a CI log and a terminal both show what was
  // about to happen; no prompt: flyctl and Kamal do not prompt on deploy, and CI could not answer.
  showPlan(first.plan, output);
  if (options.lock) return underLock(options.lock);
  if (!first.observed.state.app.exists) await createAppOnce(options.client, first.plan, output, options.signal);

  return withFleetLock(
    {
      client: options.client,
      app: cfg.app,
      output,
      command: mode.kind,
      anchorImage: first.image,
      anchorRegion: first.plan.target.region,
      ...(options.waitForLockMs !== undefined ? { waitForLockMs: options.waitForLockMs } : {}),
      ...(options.leaseTtlSeconds !== undefined ? { ttlSeconds: options.leaseTtlSeconds } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      env: options.env ?? process.env,
    },
    underLock,
  );
}

/** The plan's actions and change sets as progress lines; warnings and problems are reported on their own. */
function showPlan(plan: Plan, output: Output): void {
  for (const line of formatPlan({ ...plan, warnings: [], problems: [] }).split("\n")) output.step(line);
}

async function applyVerified(
  options: DeployOptions,
  mode: PlanMode,
  prepared: PreparedDeploy,
  lock: FleetLock,
  output: Output,
): Promise<DeployResult> {
  const cfg = options.config;
  const { plan } = prepared;
  const history = releaseHistory(prepared.observed.machines);
  // A rollback marks the release it replaced, the one the fleet ran before it (releases.ts historyAfter).
  const from = mode.kind === "rollback" ? prepared.observed.state.machines.map((m) => m.image) : undefined;
  const record = async (outcome: ReleaseOutcome): Promise<void> => {
    const at = new Date().toISOString();
    const entry: ReleaseRecord = { version: prepared.release, image: plan.target.image, at, outcome, ...options.note };
    await writeReleases(options.client, cfg.app, lock, historyAfter(history, entry, from), output);
  };
  const known = { ids: new Set<string>(), destroyed: new Set<string>() };
  const remember = ({ journal }: { journal: Journal }) => {
    for (const c of journal.created) known.ids.add(c.id);
    for (const u of journal.updated) known.ids.add(u.machineId);
    for (const id of journal.destroyed) known.destroyed.add(id);
  };
  const apply = (p: Plan, observed: ObservedApp) =>
    applyPlan(p, {
      client: options.client,
      config: cfg,
      observed,
      output,
      strategy: options.strategy ?? cfg.deploy.strategy,
      releaseVersion: prepared.release,
      appVersion: prepared.appVersion,
      ...(prepared.secretsVersion !== undefined ? { secretsVersion: prepared.secretsVersion } : {}),
      signal: options.signal,
      lock,
      extraMetadata: {
        ...(history.length > 0 ? { [RELEASES_KEY]: encodeReleases(history) } : {}),
        [SECRETS_KEY]: encodeSecretDigests(observed.state.secrets),
      },
      pollMs: options.pollMs,
      ...(options.logs ? { logs: options.logs } : {}),
      ...(options.skipStandbyCheck ? { standbyCheck: false } : {}),
    }).then(remember);

  let final: PreparedDeploy;
  try {
    await apply(plan, prepared.observed);
    // Re-read and plan again: if the fleet is not what the plan aimed for (a machine appeared, failed or went
    // away meanwhile), converge once more before judging.
    // Strategies that do not wait (immediate) leave machines mid-update, and a create may answer `creating`:
    // every reading below is judged once its machines settled (settle.ts), within wait_timeout.
    const reread = { ...options, image: plan.target.image, known };
    final = await settledRead(reread, mode, plan.target.image);
    if (final.plan.mutating && final.plan.problems.length === 0) {
      output.step(`the fleet is not yet what the plan aimed for; converging once more`);
      await apply(final.plan, final.observed);
      final = await settledRead(reread, mode, plan.target.image);
    }
  } catch (error) {
    if (error instanceof DeployError && error.exitCode === 1 && error.code !== "aborted") await record("failed");
    throw error;
  }
  const verified = verifyGroups(final.observed.state, plan.target, cfg);
  if (!verified.ok) {
    await record("failed");
    throw new DeployError(
      "rollout_failed",
      `deploy of ${cfg.app} did not end on ${plan.target.image}: re-reading the fleet found\n${verified.problems.map((p) => `- ${p}`).join("\n")}`,
      1,
      { app: cfg.app, machines: verified.machines },
    );
  }
  // A machine a person cordoned does not fail the deploy, but exit 0 must not hide it (verify.ts).
  for (const warning of verified.warnings) output.warn(warning);
  await record("good");
  return deployResult(cfg, prepared, verified.machines, true);
}

/** prepareDeploy, read again until no machine is in a transient state or wait_timeout ran out (settle.ts). */
function settledRead(
  options: DeployOptions,
  mode: PlanMode,
  image: string | undefined,
  first?: PreparedDeploy,
): Promise<PreparedDeploy> {
  const cfg = options.config;
  return readSettled(
    {
      client: options.client,
      app: cfg.app,
      timeoutMs: cfg.deploy.waitTimeoutMs,
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.pollMs !== undefined ? { pollMs: options.pollMs } : {}),
    },
    () => prepareDeploy(image !== undefined ? { ...options, image } : options, mode),
    (prepared) => prepared.observed.state.machines,
    first,
  );
}

function hasTransient(prepared: PreparedDeploy): boolean {
  return prepared.observed.state.machines.some((m) => isTransient(m.state));
}

function deployResult(
  cfg: DeployConfig,
  prepared: PreparedDeploy,
  machines: VerifiedMachine[],
  changed: boolean,
): DeployResult {
  return {
    app: cfg.app,
    url: appUrl(cfg),
    image: prepared.plan.target.image,
    release: prepared.release,
    machines: machines.map(({ id, region, state, image }) => ({ id, region, state, image })),
    plan: prepared.plan,
    changed,
  };
}

/** A plan with nothing to do: still a promise about the fleet, so the observation it came from is verified. */
function unchanged(cfg: DeployConfig, prepared: PreparedDeploy, output: Output): DeployResult {
  const { plan } = prepared;
  const verified = verifyGroups(prepared.observed.state, plan.target, cfg);
  if (!verified.ok) {
    throw new DeployError(
      "rollout_failed",
      `${cfg.app} is not running ${plan.target.image} as planned:\n${verified.problems.map((p) => `- ${p}`).join("\n")}`,
      1,
      { app: cfg.app },
    );
  }
  for (const warning of verified.warnings) output.warn(warning);
  output.step(`${cfg.app} is up to date: ${plan.actions[0]?.reason ?? "no changes"}`);
  return deployResult(cfg, prepared, verified.machines, false);
}

const PLACEHOLDER_IMAGE = "flightdeck.invalid/pending-build:preflight";

/** True when a deploy has no image to run yet: no --image and no `[build] image`. */
export function needsBuild(
  options: Pick<DeployOptions, "image" | "config">,
  mode: PlanMode = { kind: "deploy" },
): boolean {
  return mode.kind === "deploy" && !options.image && !options.config.build.image;
}

function refuseProblems(cfg: DeployConfig, plan: Plan): void {
  if (plan.problems.length === 0) return;
  throw new DeployError(
    "preflight_failed",
    `cannot deploy ${cfg.app}, nothing was changed:\n${plan.problems.map((p) => `- ${p.message}`).join("\n")}`,
    2,
    { app: cfg.app },
  );
}

export { appUrl, appVersionOf };
