// deploy = observe -> plan -> apply, as a library call (the CLI and previews both use it).
// Preflight lives here too: nothing is changed until the plan has no problems and the strategy is possible.

import type { FlyClient } from "../lib/fly/client.ts";
import { REQUIRED_PRODUCTION_SECRETS } from "../lib/config.ts";
import { applyPlan } from "./apply.ts";
import { DeployError } from "./deploy-error.ts";
import type { DeployConfig, Strategy } from "./flytoml.ts";
import type { ImageBuilder } from "./image-source.ts";
import { regionFor } from "./desired.ts";
import { processNames } from "./flytoml-groups.ts";
import { planForConfig, type PlanMode, scaleImage } from "./plan-config.ts";
import { appUrl } from "./public-address.ts";
import { METADATA } from "./machine-config.ts";
import { type ObservedApp, observe } from "./observe.ts";
import { createOutput, type Output } from "./output.ts";
import type { Plan } from "./plan-types.ts";
import { strategyProblems } from "./strategies/index.ts";

export interface DeployOptions {
  client: FlyClient;
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
  /** Test/bench knobs. */
  leaseTtlSeconds?: number;
  waitForLeaseMs?: number;
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
export async function prepareDeploy(options: DeployOptions, mode: PlanMode = { kind: "deploy" }): Promise<PreparedDeploy> {
  const cfg = options.config;
  const observed = await observe(options.client, cfg.app, { signal: options.signal });
  let image: string | undefined;
  if (mode.kind === "rollback") image = mode.image;
  else if (mode.kind === "scale") image = scaleImage(cfg, observed.state, mode.group) ?? options.image ?? cfg.build.image;
  else image = options.image ?? cfg.build.image ?? scaleImage(cfg, observed.state);
  if (!image) {
    throw new DeployError("preflight_failed", `no image to deploy to ${cfg.app}: pass --image REF (e.g. the reference printed by \`bun deploy/run.ts image build --push\`) or set [build] image in the config`, 2, {
      app: cfg.app,
    });
  }
  const secretsVersion = options.secretsVersion ?? observed.state.secrets.version;
  const state = options.secretsVersion !== undefined ? { ...observed.state, secrets: { ...observed.state.secrets, version: options.secretsVersion } } : observed.state;
  const appVersion = appVersionOf(image);
  const release = nextRelease(observed);
  const env = options.env ?? process.env;
  const region = regionFor(cfg, state, options.region);
  if (!region) {
    throw new DeployError("preflight_failed", `${cfg.app} has no machines yet and fly.toml has no primary_region: pass --region (e.g. --region ewr), or set primary_region in fly.toml`, 2, { app: cfg.app });
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
  for (const problem of strategyProblems(strategy, cfg)) plan.problems.push({ code: "strategy_refused", message: problem });
  return { observed, plan, image, release: plan.mutating ? release : Math.max(1, release - 1), appVersion, ...(secretsVersion !== undefined ? { secretsVersion } : {}) };
}

/** Plans and applies. Throws DeployError (exitCode 2: nothing changed; 1: failed, message has the fleet state). */
export async function runDeploy(options: DeployOptions, mode: PlanMode = { kind: "deploy" }): Promise<DeployResult> {
  const output = options.output ?? createOutput({ env: {}, stdout: () => {}, stderr: () => {} }, { json: false });
  const cfg = options.config;
  if (needsBuild(options, mode) && options.build) {
    // Preflight first (token, secrets, strategy): a deploy that would be refused neither builds nor pushes.
    // The placeholder image only feeds the digest of a plan that is checked for problems and thrown away.
    const preflight = await output.group(`preflight ${cfg.app}`, () => prepareDeploy({ ...options, image: PLACEHOLDER_IMAGE }, mode));
    refuseProblems(cfg, preflight.plan);
    const build = options.build;
    const env = options.env ?? process.env;
    const image = await output.group(`image for ${cfg.app}`, () => build({ app: cfg.app, projectDir: options.projectDir ?? process.cwd(), env, output }));
    options = { ...options, image };
  }
  const prepared = await output.group(`planning ${cfg.app}`, () => prepareDeploy(options, mode));
  const { plan } = prepared;
  for (const warning of plan.warnings) output.warn(warning);
  refuseProblems(cfg, plan);
  let machines: DeployedMachine[];
  if (!plan.mutating) {
    output.step(`${cfg.app} is up to date: ${plan.actions[0]?.reason ?? "no changes"}`);
    machines = managedMachines(prepared.observed, cfg);
  } else {
    await applyPlan(plan, {
      client: options.client,
      config: cfg,
      observed: prepared.observed,
      output,
      strategy: options.strategy ?? cfg.deploy.strategy,
      releaseVersion: prepared.release,
      appVersion: prepared.appVersion,
      ...(prepared.secretsVersion !== undefined ? { secretsVersion: prepared.secretsVersion } : {}),
      signal: options.signal,
      leaseTtlSeconds: options.leaseTtlSeconds,
      waitForLeaseMs: options.waitForLeaseMs,
      pollMs: options.pollMs,
    });
    machines = managedMachines(await observe(options.client, cfg.app), cfg);
  }
  return {
    app: cfg.app,
    url: appUrl(cfg),
    image: plan.target.image,
    release: prepared.release,
    machines,
    plan,
    changed: plan.mutating,
  };
}

const PLACEHOLDER_IMAGE = "flightdeck.invalid/pending-build:preflight";

/** True when a deploy has no image to run yet: no --image and no `[build] image`. */
export function needsBuild(options: Pick<DeployOptions, "image" | "config">, mode: PlanMode = { kind: "deploy" }): boolean {
  return mode.kind === "deploy" && !options.image && !options.config.build.image;
}

function refuseProblems(cfg: DeployConfig, plan: Plan): void {
  if (plan.problems.length === 0) return;
  throw new DeployError("preflight_failed", `cannot deploy ${cfg.app}, nothing was changed:\n${plan.problems.map((p) => `- ${p.message}`).join("\n")}`, 2, { app: cfg.app });
}

export { appUrl };

/** The machines of fly.toml's process groups ("app" without [processes]). */
function managedMachines(observed: ObservedApp, cfg: DeployConfig): DeployedMachine[] {
  const groups = processNames(cfg);
  return observed.state.machines
    .filter((m) => m.platformVersion === "v2" && groups.includes(m.processGroup ?? "app"))
    .map((m) => ({ id: m.id, region: m.region, state: m.state, image: m.image }))
    .sort((a, b) => a.id.localeCompare(b.id));
}

/** The release number a mutating run writes: one past the newest fly_release_version on the app's machines. */
function nextRelease(observed: ObservedApp): number {
  let max = 0;
  for (const m of observed.machines) {
    const n = Number(m.config?.metadata?.[METADATA.releaseVersion]);
    if (Number.isInteger(n) && n > max) max = n;
  }
  return max + 1;
}

/** APP_VERSION from the image alone (machine-config.ts: a per-deploy value would update every machine every time). */
export function appVersionOf(image: string): string {
  const at = image.indexOf("@");
  if (at !== -1) return image.slice(at + 1, at + 1 + "sha256:".length + 12);
  const slash = image.lastIndexOf("/");
  const colon = image.lastIndexOf(":");
  return colon > slash ? image.slice(colon + 1) : "latest";
}
