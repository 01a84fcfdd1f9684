// Pull-request previews: `preview up --pr N [--image REF] [--json]`, `preview down --pr N`,
// `preview prune --closed`. A preview is the app `<production app>-pr-<N>` (deploy/preview/names.ts), built
// from fly.preview.toml and deployed with the same engine as production (deploy/apply/deploy.ts runDeploy), then
// announced on the PR (deploy/github/github.ts).
//
// What keeps production safe (DESIGN.md: previews "can never touch production"):
// - the app name is computed, never taken from input: `--pr` is a positive integer and nothing else;
// - a preview is created in its own 6PN network (so PR code cannot reach production over the private
//   network) and every machine is created with metadata `flightdeck_preview=<app>#<N>`;
// - `down` destroys only an app whose name, network and every machine prove it is this PR's preview;
// - `up` refuses a preview config with volumes, a non-preview APP_ENV or a non-SQLite DATABASE_URL, and an
//   app holding a DATABASE_URL secret; the only secret it writes is a fresh random SECRET_KEY.

import { readFileSync } from "node:fs";
import type { FlyClient } from "../../lib/fly/client.ts";
import { createFlyClient, FlyClientConfigError } from "../../lib/fly/client.ts";
import { isFlyApiError } from "../../lib/fly/errors.ts";
import type { Machine } from "../../lib/fly/types.ts";
import { appExists, deleteAppHoldingLock } from "../ops/destroy.ts";
import { DeployError, describeError } from "../deploy-error.ts";
import { deactivatePreviewDeployments, recordPreviewDeployment } from "./github-deployment.ts";
import { runDeploy, type DeployResult } from "../apply/deploy.ts";
import { type FleetLock, parseWaitForLock, withFleetLock } from "../fleet/lock.ts";
import { type DeployConfig, formatProblems, loadDeployConfig } from "../config/flytoml.ts";
import {
  appendStepSummary,
  createGitHubClient,
  findStickyComment,
  type GitHubClient,
  type GitHubClientOptions,
  githubContextFromEnv,
  maskSecrets,
  stickyMarker,
  upsertStickyComment,
  writeStepOutputs,
} from "../github/github.ts";
import { type CliIo, createOutput, type Output } from "../output.ts";
import { PREVIEW_MACHINE_COUNT } from "../plan/plan.ts";
import { formatMs, pollUntil } from "../apply/waits.ts";
import { waitPreviewReady } from "./ready.ts";
import { type PreviewReport, renderPreviewComment, renderStepSummary, runUrlFromEnv } from "./comment.ts";
import {
  parsePrNumber,
  PREVIEW_MARKER_KEY,
  PREVIEW_REPOSITORY_KEY,
  PreviewNameError,
  previewAppName,
  previewMarker,
  previewNetwork,
  prOfPreviewApp,
  whyNotPreview,
} from "./names.ts";
import { isLive } from "../fleet/members.ts";
import { errorReport } from "../error-report.ts";

export { previewAppName, previewMarker, PREVIEW_MARKER_KEY } from "./names.ts";

/** Injectable edges; the CLI uses the defaults, tests point them at fakes. */
export interface PreviewDeps {
  /** Directory holding fly.toml and fly.preview.toml (default: the working directory). */
  cwd: string;
  productionConfig: string;
  previewConfig: string;
  createClient(env: Record<string, string | undefined>): FlyClient;
  /** Builds and pushes the image when `--image` is not given; returns the digest-pinned reference. */
  buildImage(opts: {
    app: string;
    token: string;
    env: Record<string, string | undefined>;
    cwd: string;
  }): Promise<string>;
  github: GitHubClientOptions;
  /** Test knobs passed through to runDeploy. */
  pollMs?: number;
  /** Default for --wait-for-lock (2 minutes when unset). */
  waitForLockMs?: number;
  /** How long to wait for a new app to become readable, and for a deleted one to disappear. */
  appSettleMs: number;
}

const DEFAULT_DEPS: PreviewDeps = {
  cwd: ".",
  productionConfig: "fly.toml",
  previewConfig: "fly.preview.toml",
  createClient: (env) => createFlyClient({ env }),
  async buildImage({ app, token, env, cwd }) {
    // Imported lazily: the image builder is only needed when no --image is given.
    const { buildAndPushImage } = await import("../image/index.ts");
    const sha = headSha(env)?.slice(0, 12);
    const id = `${sha ?? Date.now().toString(36)}-${crypto.randomUUID().slice(0, 8)}`;
    const pushed = await buildAndPushImage({ app, token, env, projectDir: cwd, deploymentId: id });
    return pushed.reference;
  },
  github: {},
  appSettleMs: 60_000,
};

type Verb = "up" | "down" | "prune";

interface PreviewArgs {
  verb: Verb;
  pr?: number;
  image?: string;
  json: boolean;
  closed: boolean;
  /** --wait-for-lock, in ms. */
  waitForLockMs?: number;
}

function waitForLock(args: PreviewArgs, d: PreviewDeps): number | undefined {
  return args.waitForLockMs ?? d.waitForLockMs;
}

const USAGE = `usage: bun deploy/run.ts preview up --pr N [--image REF] [--wait-for-lock DURATION] [--json]
       bun deploy/run.ts preview down --pr N [--wait-for-lock DURATION] [--json]
       bun deploy/run.ts preview prune --closed [--json]`;

/**
 * The `preview` command. `argv` may start with "preview". Returns the exit status: 0 done, 1 failed (the
 * message says what state the preview is in), 2 usage/config/refusal (nothing was changed).
 */
export async function previewCommand(
  argv: readonly string[],
  io: CliIo,
  deps: Partial<PreviewDeps> = {},
): Promise<number> {
  const d: PreviewDeps = { ...DEFAULT_DEPS, ...deps };
  let args: PreviewArgs;
  try {
    args = parsePreviewArgs(argv[0] === "preview" ? argv.slice(1) : argv);
  } catch (error) {
    io.stderr(`error: ${describeError(error)}\n${USAGE}\n`);
    return 2;
  }
  const output = createOutput(io, { json: args.json });
  try {
    const result =
      args.verb === "up"
        ? await previewUp(args, io, output, d)
        : args.verb === "down"
          ? await previewDown(args, io, output, d)
          : await previewPrune(io, output, d);
    output.result(result.json);
    return result.exitCode;
  } catch (error) {
    const { message, exitCode, code } = errorReport(error);
    io.stderr(`error: ${message}\n`);
    if (args.json) io.stdout(`${JSON.stringify({ error: { code, message, exitCode } })}\n`);
    return exitCode;
  }
}

function parsePreviewArgs(argv: readonly string[]): PreviewArgs {
  const [verb, ...rest] = argv;
  if (verb !== "up" && verb !== "down" && verb !== "prune") {
    throw new PreviewNameError(
      "invalid_pr",
      verb ? `unknown preview subcommand "${verb}"` : "preview needs up, down or prune",
    );
  }
  const args: PreviewArgs = { verb, json: false, closed: false };
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i]!;
    const eq = arg.indexOf("=");
    const key = arg.startsWith("--") ? arg.slice(2, eq === -1 ? undefined : eq) : undefined;
    const value = () => {
      if (eq !== -1) return arg.slice(eq + 1);
      const next = rest[++i];
      if (next === undefined || next.startsWith("--")) throw new Error(`--${key} needs a value`);
      return next;
    };
    if (key === "json" && eq === -1) args.json = true;
    else if (key === "closed" && eq === -1 && verb === "prune") args.closed = true;
    else if (key === "pr" && verb !== "prune") args.pr = parsePrNumber(value());
    else if (key === "image" && verb === "up") {
      const image = value();
      // An image reference: registry/repo[:tag][@sha256:...]. Anything with spaces or control characters is not one.
      if (!/^[A-Za-z0-9][A-Za-z0-9._:/@+-]{0,511}$/.test(image))
        throw new Error(`--image ${JSON.stringify(image.slice(0, 80))} is not an image reference`);
      args.image = image;
    } else if (key === "wait-for-lock" && verb !== "prune") {
      const text = value();
      const ms = parseWaitForLock(text);
      if (ms === undefined)
        throw new Error(
          `--wait-for-lock must be a duration such as 2m, 30s or 0s (got ${JSON.stringify(text.slice(0, 40))})`,
        );
      args.waitForLockMs = ms;
    } else throw new Error(`unexpected argument "${arg}" for "preview ${verb}"`);
  }
  if (verb !== "prune" && args.pr === undefined) throw new Error(`"preview ${verb}" needs --pr N`);
  if (verb === "prune" && !args.closed)
    throw new Error(`"preview prune" needs --closed (the only prune mode: previews whose pull request is closed)`);
  return args;
}

interface VerbResult {
  exitCode: number;
  json: Record<string, unknown>;
}

// ---------------------------------------------------------------------------------------------------------
// Shared set-up

interface Setup {
  base: string;
  template: DeployConfig;
  token: string;
  client: FlyClient;
  org: string;
  github?: GitHubClient;
}

async function setup(io: CliIo, d: PreviewDeps, opts: { needsGitHub: boolean }): Promise<Setup> {
  const production = await loadConfig(join(d.cwd, d.productionConfig));
  const template = await loadConfig(join(d.cwd, d.previewConfig));
  checkPreviewTemplate(template, d.previewConfig);

  const githubContext = githubContextFromEnv(io.env);
  if (opts.needsGitHub && !githubContext) {
    throw new DeployError(
      "preflight_failed",
      "preview prune needs GITHUB_TOKEN and GITHUB_REPOSITORY to ask GitHub which pull requests are closed",
      2,
    );
  }
  const token = io.env.FLY_API_TOKEN?.trim();
  if (!token) throw new DeployError("preflight_failed", new FlyClientConfigError().message, 2);
  maskSecrets(io.env, io.stderr);
  let client: FlyClient;
  try {
    client = d.createClient(io.env);
  } catch (error) {
    if (error instanceof FlyClientConfigError) throw new DeployError("preflight_failed", error.message, 2);
    throw error;
  }
  return {
    base: production.app,
    template,
    token,
    client,
    org: io.env.FLY_ORG || "personal",
    ...(githubContext ? { github: createGitHubClient(githubContext, d.github) } : {}),
  };
}

async function loadConfig(path: string): Promise<DeployConfig> {
  const parsed = await loadDeployConfig(path);
  if (!parsed.ok)
    throw new DeployError("config_invalid", `${path} is not valid:\n${formatProblems(parsed.problems)}`, 2);
  return parsed.config;
}

/** The preview template must describe a disposable, isolated app; anything else is a config error. */
export function checkPreviewTemplate(cfg: DeployConfig, path: string): void {
  const problems: string[] = [];
  if (cfg.env.APP_ENV !== "preview")
    problems.push(`[env] APP_ENV must be "preview" (got ${JSON.stringify(cfg.env.APP_ENV ?? null)})`);
  const db = cfg.env.DATABASE_URL;
  if (db !== undefined && !db.startsWith("sqlite:"))
    problems.push(
      "[env] DATABASE_URL must be a sqlite: URL on the machine's own disk; a preview never gets a shared database",
    );
  if (cfg.mounts.length > 0) problems.push("[mounts] must be absent: previews are ephemeral and have no volumes");
  if (cfg.deploy.releaseCommand)
    problems.push("[deploy] release_command must be absent: the preview's SQLite migrates at boot");
  if (problems.length > 0)
    throw new DeployError("config_invalid", `${path} is not a safe preview template:\n- ${problems.join("\n- ")}`, 2);
}

/** The preview's config: the template with the preview's app name. */
function previewConfigFor(template: DeployConfig, app: string): DeployConfig {
  return { ...template, app };
}

/**
 * The client handed to the deploy engine, with this PR's marker added to every machine it creates or
 * updates. The marker is in the config sent with the create/update itself, so no machine of a preview is
 * ever without it, even when a deploy stops half-way. (Metadata outside the config digest: adding it
 * does not make the planner see a change.)
 */
function markingClient(client: FlyClient, app: string, metadata: Record<string, string>): FlyClient {
  const mark = <T extends { config?: { metadata?: Record<string, string> | null } | null }>(input: T): T =>
    input.config
      ? { ...input, config: { ...input.config, metadata: { ...(input.config.metadata ?? {}), ...metadata } } }
      : input;
  return {
    ...client,
    createMachine: (appName, input, opts) => client.createMachine(appName, appName === app ? mark(input) : input, opts),
    updateMachine: (appName, machineId, input, opts) =>
      client.updateMachine(appName, machineId, appName === app ? mark(input) : input, opts),
  };
}

// ---------------------------------------------------------------------------------------------------------
// up

async function previewUp(args: PreviewArgs, io: CliIo, output: Output, d: PreviewDeps): Promise<VerbResult> {
  const pr = args.pr!;
  const s = await setup(io, d, { needsGitHub: false });
  const app = previewAppName(s.base, pr);
  if (app === s.base)
    throw new DeployError("preflight_failed", `refusing: preview name equals the production app ${s.base}`, 2);
  const url = `https://${app}.fly.dev`;
  const marker = previewMarker(s.base, pr);
  const metadata: Record<string, string> = { [PREVIEW_MARKER_KEY]: marker };
  const repository = io.env.GITHUB_REPOSITORY;
  if (repository && /^[\w.-]+\/[\w.-]+$/.test(repository)) metadata[PREVIEW_REPOSITORY_KEY] = repository;
  const sha = headSha(io.env);
  const report: PreviewReport = { pr, app, url, status: "ready", ...(sha ? { sha } : {}) };
  const runUrl = runUrlFromEnv(io.env);
  if (runUrl) report.runUrl = runUrl;

  let created = false;
  let deployed: DeployResult;
  let image: string | undefined = args.image;
  try {
    created = await output
      .group(`preview app ${app}`, () => ensurePreviewApp(s, app, pr, output, d))
      .catch(vanished(app));
    // Checked before a build (a preview that would be refused builds nothing); written under the lock.
    await ensurePreviewSecrets(s, app, output, io, { write: false }).catch(vanished(app));
    if (!image) {
      output.step(`building the image and pushing it to the ${app} repository`);
      image = await d.buildImage({ app, token: s.token, env: io.env, cwd: d.cwd });
    }
    report.image = image;
    const deployImage = image;
    const client = markingClient(s.client, app, metadata);
    const config = previewConfigFor(s.template, app);
    const wait = waitForLock(args, d);
    // One fleet lock (fleet-lock.ts) over the secret, the deploy and the readiness wait: a `down` of the same
    // PR runs before or after all of it, never in the middle.
    const lockOptions = {
      client,
      app,
      output,
      command: "preview up",
      anchorImage: deployImage,
      anchorRegion: config.primaryRegion,
      env: io.env,
      ...(wait !== undefined ? { waitForLockMs: wait } : {}),
      ...(io.signal ? { signal: io.signal } : {}),
    };
    deployed = await withFleetLock(lockOptions, async (lock) => {
      const secretsVersion = await ensurePreviewSecrets(s, app, output, io, { write: true });
      const result = await runDeploy({
        client,
        config,
        image: deployImage,
        // flyctl previews (fly-pr-review-apps) deploy with --strategy immediate: one machine, no one to protect.
        strategy: "immediate",
        machineCount: PREVIEW_MACHINE_COUNT,
        requiredSecrets: ["SECRET_KEY"],
        org: s.org,
        ...(secretsVersion !== undefined ? { secretsVersion } : {}),
        output,
        env: io.env,
        lock,
        ...(io.signal ? { signal: io.signal } : {}),
        ...(d.pollMs !== undefined ? { pollMs: d.pollMs } : {}),
      });
      await ensureMarkers(s.client, app, metadata, lock);
      // Also after a no-op deploy: the machine may have failed since (or in the run that left it there), and
      // the comment must not say "ready" over a broken preview.
      await output.group(`waiting for ${app} to be healthy`, () =>
        waitPreviewReady(s.client, config, result.plan.target, {
          machineIds: result.machines.map((m) => m.id),
          pollMs: d.pollMs,
          signal: io.signal,
        }),
      );
      return result;
    });
  } catch (error) {
    const { message, exitCode } = errorReport(error);
    // A refusal (exit 2) changed nothing and says nothing on the PR; a failed deploy is reported there.
    if (exitCode !== 2) {
      const failed: PreviewReport = {
        ...report,
        status: "failed",
        error: firstLine(message),
        ...(image ? { image } : {}),
      };
      if (s.github) await announce(s.github, failed, output);
      if (s.github)
        await recordPreviewDeployment(
          s.github,
          { pr, state: "failure", url, ...deploymentRefs(report), description: `preview failed: ${failed.error}` },
          output,
        );
      await appendStepSummary(io.env, renderStepSummary(failed)).catch(() => false);
    }
    throw error;
  }

  output.step(`preview ready: ${url}`);
  const comment = s.github ? await announce(s.github, report, output) : undefined;
  const deployment = s.github
    ? await recordPreviewDeployment(
        s.github,
        { pr, state: "success", url, ...deploymentRefs(report), description: `preview of PR #${pr} is up` },
        output,
      )
    : undefined;
  await writeStepOutputs(io.env, { url, app });
  await appendStepSummary(io.env, renderStepSummary(report));
  return {
    exitCode: 0,
    json: {
      app,
      url,
      pr,
      image: deployed.image,
      release: deployed.release,
      created,
      changed: deployed.changed,
      machines: deployed.machines,
      comment: comment ?? null,
      deployment: deployment ?? null,
    },
  };
}

/**
 * Before the lock, the app can disappear between two reads (a `preview down` of the same PR finishing): a 404
 * then means exactly that, and this run has changed nothing.
 */
function vanished(app: string) {
  return (error: unknown): never => {
    if (isFlyApiError(error) && error.status === 404) {
      throw new DeployError(
        "app_not_found",
        `${app} was removed while this run prepared (a preview down of the same PR?); nothing was changed`,
        2,
        { app },
      );
    }
    throw error;
  };
}

/** Creates the preview app (own network) on first run; on later runs checks the existing app is ours. */
async function ensurePreviewApp(s: Setup, app: string, pr: number, output: Output, d: PreviewDeps): Promise<boolean> {
  let existing: { network?: string } | undefined;
  try {
    existing = await s.client.getApp(app);
  } catch (error) {
    if (isFlyApiError(error) && error.status === 403) {
      throw new DeployError(
        "preflight_failed",
        `app name ${app} belongs to another organization or account; nothing was changed`,
        2,
        { app },
      );
    }
    if (!(isFlyApiError(error) && error.status === 404)) throw error;
  }
  if (existing) {
    const machines = await s.client.listMachines(app);
    const why = whyNotPreview(
      { name: app, network: existing.network, machines: machines.map(machineView) },
      s.base,
      pr,
    );
    if (why)
      throw new DeployError("preflight_failed", `refusing to deploy over ${app}: ${why}; nothing was changed`, 2, {
        app,
      });
    output.step(`${app} exists: updating it in place`);
    return false;
  }
  output.step(`creating ${app} in org ${s.org} (own network ${previewNetwork(app)})`);
  await s.client.createApp({ name: app, org_slug: s.org, network: previewNetwork(app) });
  // A new app is eventually consistent: fly-go's WaitForApp polls GET while it answers 404.
  if (!(await pollUntil(() => appExists(s.client, app), { timeoutMs: d.appSettleMs, pollMs: d.pollMs ?? 250 }))) {
    throw new DeployError(
      "api_error",
      `${app} was created but is not readable after ${formatMs(d.appSettleMs)}; run the same command again`,
      1,
      { app },
    );
  }
  return true;
}

/**
 * A preview gets one secret: its own random SECRET_KEY, written once. Production's secrets are never read
 * or copied, and an app carrying a DATABASE_URL secret (which would override the SQLite URL) is refused.
 */
async function ensurePreviewSecrets(
  s: Setup,
  app: string,
  output: Output,
  io: CliIo,
  opts: { write: boolean },
): Promise<number | undefined> {
  const names = new Set((await s.client.listSecrets(app)).map((secret) => secret.name ?? ""));
  if (names.has("DATABASE_URL")) {
    throw new DeployError(
      "preflight_failed",
      `${app} has a DATABASE_URL secret; previews use SQLite on the machine and must not share a database. Remove it: bun deploy/run.ts secrets unset DATABASE_URL --config <a config naming ${app}>`,
      2,
      { app },
    );
  }
  if (names.has("SECRET_KEY") || !opts.write) return undefined;
  const secretKey = Buffer.from(crypto.getRandomValues(new Uint8Array(48))).toString("base64url");
  maskSecrets({ GITHUB_ACTIONS: io.env.GITHUB_ACTIONS }, io.stderr, [secretKey]);
  const { version } = await s.client.setSecrets(app, { SECRET_KEY: secretKey });
  output.step(`set a fresh random SECRET_KEY on ${app} (secrets version ${version})`);
  return version;
}

/** Every live machine of the preview carries the marker (they are created with it; this repairs strays). */
async function ensureMarkers(
  client: FlyClient,
  app: string,
  metadata: Record<string, string>,
  lock: FleetLock,
): Promise<void> {
  for (const machine of await client.listMachines(app)) {
    if (!isLive(machine)) continue;
    const missing = Object.entries(metadata).filter(([k, v]) => machine.config?.metadata?.[k] !== v);
    if (missing.length > 0)
      await client.updateMetadata(app, machine.id!, Object.fromEntries(missing), {
        leaseNonce: await lock.nonce(machine.id!),
      });
  }
}

// ---------------------------------------------------------------------------------------------------------
// down

async function previewDown(args: PreviewArgs, io: CliIo, output: Output, d: PreviewDeps): Promise<VerbResult> {
  const s = await setup(io, d, { needsGitHub: false });
  const result = await destroyPreview(s, args.pr!, output, d, waitForLock(args, d));
  const report: PreviewReport = {
    pr: args.pr!,
    app: result.app,
    url: `https://${result.app}.fly.dev`,
    status: "removed",
  };
  let comment: Announced | undefined;
  if (s.github) comment = await announceRemoved(s.github, report, output);
  const deactivated = s.github ? await deactivatePreviewDeployments(s.github, args.pr!, output) : undefined;
  await writeStepOutputs(io.env, { app: result.app, removed: String(result.existed) });
  await appendStepSummary(io.env, renderStepSummary(report));
  return {
    exitCode: 0,
    json: { ...result, pr: args.pr, comment: comment ?? null, deploymentsDeactivated: deactivated ?? null },
  };
}

interface Destroyed {
  app: string;
  existed: boolean;
  machines: string[];
  ips: string[];
}

/**
 * Destroys the preview of PR `pr` after proving it is one. Throws DeployError exit 2 (nothing changed)
 * when any check fails. Machines and IPs are removed explicitly before the app, so the result lists them
 * and nothing is left if the app delete (asynchronous on Fly's side) is slow.
 */
async function destroyPreview(
  s: Setup,
  pr: number,
  output: Output,
  d: PreviewDeps,
  waitForLockMs?: number,
): Promise<Destroyed> {
  const app = previewAppName(s.base, pr);
  if (app === s.base) throw new DeployError("preflight_failed", `refusing: ${app} is the production app`, 2, { app });
  let existing: { name?: string; network?: string };
  try {
    existing = await s.client.getApp(app);
  } catch (error) {
    if (isFlyApiError(error) && error.status === 404) {
      output.step(`${app} does not exist: nothing to remove`);
      return { app, existed: false, machines: [], ips: [] };
    }
    if (isFlyApiError(error) && error.status === 403) {
      throw new DeployError(
        "preflight_failed",
        `refusing to destroy ${app}: it belongs to another organization or account`,
        2,
        { app },
      );
    }
    throw error;
  }
  const machines = (await s.client.listMachines(app)).filter(isLive);
  const why = whyNotPreview(
    { name: existing.name ?? app, network: existing.network, machines: machines.map(machineView) },
    s.base,
    pr,
  );
  if (why)
    throw new DeployError("preflight_failed", `refusing to destroy ${app}: ${why}. Nothing was changed.`, 2, { app });

  // Under the fleet lock (fleet-lock.ts): a `preview up` of the same PR either finishes first or waits and
  // then finds the app gone; never a half-deleted preview being deployed to.
  const lockOptions = {
    client: s.client,
    app,
    output,
    command: "preview down",
    ...(waitForLockMs !== undefined ? { waitForLockMs } : {}),
    env: process.env,
  };
  try {
    return await withFleetLock(lockOptions, (lock) =>
      output.group(`removing preview ${app}`, () => removePreview(s, app, pr, existing, lock, output, d)),
    );
  } catch (error) {
    // Another `down` removed it while this one waited: what was asked for is done.
    if (error instanceof DeployError && error.code === "app_not_found") {
      output.step(`${app} was removed meanwhile: nothing left to remove`);
      return { app, existed: false, machines: [], ips: [] };
    }
    throw error;
  }
}

async function removePreview(
  s: Setup,
  app: string,
  pr: number,
  existing: { name?: string; network?: string },
  lock: FleetLock,
  output: Output,
  d: PreviewDeps,
): Promise<Destroyed> {
  // Read again under the lock: a run we waited for may have added or replaced machines; the proof still holds.
  const machines = (await s.client.listMachines(app)).filter(isLive);
  const why = whyNotPreview(
    { name: existing.name ?? app, network: existing.network, machines: machines.map(machineView) },
    s.base,
    pr,
  );
  if (why)
    throw new DeployError("preflight_failed", `refusing to destroy ${app}: ${why}. Nothing was changed.`, 2, { app });
  // Not the lock's anchor: it keeps other runs out until the app is gone, and the app delete takes it along.
  // Destroyed earlier, a waiting `preview up` would find no anchor, make a new one and start on a dying app.
  const fleet = machines.filter((m) => m.id !== lock.anchorId);
  for (const machine of fleet) {
    output.step(`destroying machine ${machine.id}`);
    await s.client.destroyMachine(app, machine.id!, { force: true, leaseNonce: await lock.nonce(machine.id!) });
    lock.forget(machine.id!);
  }
  const ips: string[] = [];
  for (const ip of await s.client.listIpAssignments(app)) {
    if (!ip.ip) continue;
    output.step(`releasing ${ip.ip}`);
    await s.client.deleteIp(app, ip.ip);
    ips.push(ip.ip);
  }
  // Waits (appSettleMs) until the app answers 404: removed means Fly no longer has it, not that it said it would.
  await deleteAppHoldingLock(s.client, app, lock, {
    goneTimeoutMs: d.appSettleMs,
    pollMs: d.pollMs ?? 500,
    rerun: `bun deploy/run.ts preview down --pr ${pr}`,
  });
  output.step(`${app} destroyed`);
  return { app, existed: true, machines: fleet.map((m) => m.id!), ips };
}

// ---------------------------------------------------------------------------------------------------------
// prune --closed

async function previewPrune(io: CliIo, output: Output, d: PreviewDeps): Promise<VerbResult> {
  const s = await setup(io, d, { needsGitHub: true });
  const apps = await s.client.listApps(s.org);
  const previews = apps
    .map((a) => ({ name: a.name ?? "", pr: prOfPreviewApp(a.name ?? "", s.base) }))
    .filter((p): p is { name: string; pr: number } => p.pr !== undefined)
    .sort((a, b) => a.pr - b.pr);
  output.step(`${previews.length} preview app(s) of ${s.base} in org ${s.org}`);
  const removed: Destroyed[] = [];
  const kept: { app: string; pr: number; why: string }[] = [];
  const failed: { app: string; pr: number; error: string }[] = [];
  for (const preview of previews) {
    let state: string;
    try {
      const pull = await s.github!.getPullRequest(preview.pr);
      // An unknown PR is kept: prune deletes on evidence (a closed PR), never on absence of it.
      if (!pull) {
        kept.push({ app: preview.name, pr: preview.pr, why: "GitHub does not know this pull request" });
        continue;
      }
      state = pull.state;
    } catch (error) {
      failed.push({ app: preview.name, pr: preview.pr, error: describeError(error) });
      continue;
    }
    if (state !== "closed") {
      kept.push({ app: preview.name, pr: preview.pr, why: "pull request is open" });
      continue;
    }
    try {
      const result = await destroyPreview(s, preview.pr, output, d, d.waitForLockMs);
      removed.push(result);
      await announceRemoved(
        s.github!,
        { pr: preview.pr, app: preview.name, url: `https://${preview.name}.fly.dev`, status: "removed" },
        output,
      );
      await deactivatePreviewDeployments(s.github!, preview.pr, output);
    } catch (error) {
      const { message, exitCode } = errorReport(error);
      if (exitCode === 2) kept.push({ app: preview.name, pr: preview.pr, why: message });
      else failed.push({ app: preview.name, pr: preview.pr, error: message });
      output.warn(`${preview.name}: ${message}`);
    }
  }
  output.step(`pruned ${removed.length}, kept ${kept.length}, failed ${failed.length}`);
  return { exitCode: failed.length > 0 ? 1 : 0, json: { removed, kept, failed } };
}

// ---------------------------------------------------------------------------------------------------------
// GitHub side

interface Announced {
  id: number;
  action: "created" | "updated" | "unchanged";
  url?: string;
}

/** Posts or edits the sticky comment. A comment that cannot be written is a warning, not a failed deploy. */
async function announce(github: GitHubClient, report: PreviewReport, output: Output): Promise<Announced | undefined> {
  try {
    const result = await upsertStickyComment(github, report.pr, renderPreviewComment(report));
    output.step(`PR #${report.pr} comment ${result.action}`);
    return {
      id: result.comment.id,
      action: result.action,
      ...(result.comment.html_url ? { url: result.comment.html_url } : {}),
    };
  } catch (error) {
    output.warn(`could not write the preview comment on PR #${report.pr}: ${describeError(error)}`);
    return undefined;
  }
}

/** Edits an existing preview comment to say it was removed; creates none (no preview, nothing to say). */
async function announceRemoved(
  github: GitHubClient,
  report: PreviewReport,
  output: Output,
): Promise<Announced | undefined> {
  try {
    const existing = await findStickyComment(github, report.pr);
    if (!existing) return undefined;
    const body = `${stickyMarker(report.pr)}\n${renderPreviewComment(report)}`;
    if (existing.body === body) return { id: existing.id, action: "unchanged" };
    const updated = await github.updateIssueComment(existing.id, body);
    output.step(`PR #${report.pr} comment updated: preview removed`);
    return { id: updated.id, action: "updated" };
  } catch (error) {
    output.warn(`could not update the preview comment on PR #${report.pr}: ${describeError(error)}`);
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Helpers

/** The commit and run a GitHub deployment points at, from the report the PR comment is written from. */
function deploymentRefs(report: PreviewReport): { sha?: string; logUrl?: string } {
  return { ...(report.sha ? { sha: report.sha } : {}), ...(report.runUrl ? { logUrl: report.runUrl } : {}) };
}

function machineView(m: Machine) {
  return { id: m.id ?? "?", metadata: m.config?.metadata ?? null, mounts: m.config?.mounts ?? null };
}

/** The PR's head commit: from the event payload on GitHub Actions (GITHUB_SHA is the merge commit there). */
export function headSha(env: Record<string, string | undefined>): string | undefined {
  const path = env.GITHUB_EVENT_PATH;
  if (path) {
    try {
      const event = JSON.parse(readFileSync(path, "utf8")) as { pull_request?: { head?: { sha?: unknown } } };
      const sha = event.pull_request?.head?.sha;
      if (typeof sha === "string" && /^[0-9a-f]{40}$/.test(sha)) return sha;
    } catch {
      // unreadable event file: fall back to GITHUB_SHA
    }
  }
  const sha = env.GITHUB_SHA;
  return sha && /^[0-9a-f]{40}$/.test(sha) ? sha : undefined;
}

function join(dir: string, file: string): string {
  return file.startsWith("/") || dir === "." ? file : `${dir.replace(/\/+$/, "")}/${file}`;
}

function firstLine(text: string): string {
  return text.split("\n")[0]!.slice(0, 300);
}
