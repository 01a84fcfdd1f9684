// One function per CLI command. Each gets parsed args and the process edges, writes progress through
// Output, and returns the JSON result (printed with --json) or throws a DeployError carrying the exit code.

import { DEFAULT_BASE_URL, type FlyClient } from "../../lib/fly/client.ts";
import { createLogsClient, type LogsClient } from "../../lib/fly/logs.ts";
import { isFlyApiError } from "../../lib/fly/errors.ts";
import { DeployError, usageError } from "../deploy-error.ts";
import { destroyApp } from "../ops/destroy.ts";
import { dirname, resolve } from "node:path";
import {
  appUrl,
  needsBuild,
  prepareDeploy,
  runDeploy,
  type DeployOptions,
  type DeployResult,
} from "../apply/deploy.ts";
import { type DeployConfig, dockerBuildOf, type Strategy } from "../config/flytoml.ts";
import { daemonlessBuilder } from "../image/source.ts";
import { observe } from "../fleet/observe.ts";
import { formatPlan, PRODUCTION_MACHINE_COUNT, recordedFleetSize } from "../plan/plan.ts";
import { releaseHistory, rollbackChoice } from "../fleet/releases.ts";
import { defaultProcessName, processNames } from "../config/flytoml-groups.ts";
import { hasProcessGroups, primaryGroups } from "../plan/from-config.ts";
import { recordedGroupSize } from "../plan/groups.ts";
import { refuseSecretsProductionRejects, type SecretsContext, setSecrets, unsetSecrets } from "../ops/secrets.ts";
import { importSecretsCommand } from "../ops/secrets-import.ts";
import { type CommandContext, configPath, durationFlag, flyClient, loadConfig, waitForLockMs } from "../ops/context.ts";
import { DEFAULT_PROCESS_GROUP, groupMembers } from "../fleet/members.ts";
import { releaseNote } from "../ops/identity.ts";
import { checkRegionFlag } from "../ops/region-flag.ts";

const MAX_PRODUCTION_MACHINES = PRODUCTION_MACHINE_COUNT;

/**
 * Fly's logs endpoint for quoting a failed release command, or undefined. Only when it is where the Machines
 * API is: with FLY_FLAPS_BASE_URL pointed elsewhere (a proxy, a fake) and no FLY_API_BASE_URL, the token is not
 * sent to api.fly.io. Short timeouts: the lines are a courtesy on a failure already decided.
 */
function releaseLogs(env: Record<string, string | undefined>): LogsClient | undefined {
  const flapsElsewhere = (env.FLY_FLAPS_BASE_URL || DEFAULT_BASE_URL) !== DEFAULT_BASE_URL;
  if (flapsElsewhere && !env.FLY_API_BASE_URL) return undefined;
  try {
    return createLogsClient({ env, timeoutMs: 3000, deadlineMs: 3000 });
  } catch {
    return undefined;
  }
}

function deployOptions(ctx: CommandContext, client: FlyClient, config: DeployConfig): DeployOptions {
  checkRegionFlag(ctx.args, ctx.io.env);
  const strategy = typeof ctx.args.flags.strategy === "string" ? (ctx.args.flags.strategy as Strategy) : undefined;
  const wait = waitForLockMs(ctx.args);
  const logs = releaseLogs(ctx.io.env);
  return {
    client,
    config,
    output: ctx.output,
    ...(logs ? { logs } : {}),
    signal: ctx.io.signal,
    env: ctx.io.env,
    note: releaseNote(ctx.args, ctx.io.env),
    ...(typeof ctx.args.flags.image === "string" ? { image: ctx.args.flags.image } : {}),
    ...(typeof ctx.args.flags.region === "string" ? { region: ctx.args.flags.region } : {}),
    ...(strategy ? { strategy } : {}),
    ...(wait !== undefined ? { waitForLockMs: wait } : {}),
    ...(ctx.args.flags["skip-standby-check"] === true ? { skipStandbyCheck: true } : {}),
  };
}

function deployJson(result: DeployResult) {
  return { app: result.app, url: result.url, image: result.image, release: result.release, machines: result.machines };
}

export async function deployCommand(ctx: CommandContext) {
  const config = await loadConfig(ctx.args, ctx.output, ctx.io.env);
  const options = deployOptions(ctx, flyClient(ctx.io), config);
  refuseDockerBuild(config, options);
  // No --image and no [build] image: build the project next to fly.toml and push it (issue 5).
  const result = await runDeploy({
    ...options,
    build: daemonlessBuilder,
    projectDir: dirname(resolve(configPath(ctx.args))),
  });
  ctx.output.step(
    result.changed
      ? `deployed ${result.image} to ${result.app}${result.url ? `: ${result.url}` : ""}`
      : `nothing to do: ${result.app} already runs ${result.image}`,
  );
  return deployJson(result);
}

/**
 * A fly.toml whose image is built with Docker or buildpacks ([build] dockerfile, builder, buildpacks, args) cannot
 * be built by the daemonless builder, which would silently build something else: such an app deploys an image
 * built elsewhere.
 */
function refuseDockerBuild(config: DeployConfig, options: DeployOptions): void {
  const how = dockerBuildOf(config.build);
  if (!how || !needsBuild(options)) return;
  throw new DeployError(
    "preflight_failed",
    `${config.app} is built with ${how}, which needs Docker or a buildpack builder; Flightdeck builds without a Docker daemon and cannot honour it.\nBuild and push the image where Docker runs (e.g. \`docker build -t registry.fly.io/${config.app}:v1 . && docker push registry.fly.io/${config.app}:v1\` in CI), then deploy it with --image registry.fly.io/${config.app}:v1, or set [build] image in fly.toml. Nothing was changed.`,
    2,
    { app: config.app },
  );
}

export async function planCommand(ctx: CommandContext) {
  const config = await loadConfig(ctx.args, ctx.output, ctx.io.env);
  const client = flyClient(ctx.io);
  const options = deployOptions(ctx, client, config);
  refuseDockerBuild(config, options);
  const { plan } = await prepareDeploy(options);
  if (needsBuild(options)) {
    plan.warnings.push(
      `no --image: deploy would first build and push a new image; this plan compares against the image the fleet runs now (${plan.target.image}), so it shows config changes only`,
    );
  }
  if (!ctx.output.json) ctx.io.stdout(`${formatPlan(plan)}\n`);
  if (plan.problems.length > 0) {
    if (ctx.output.json) ctx.output.result(plan);
    throw new DeployError(
      "preflight_failed",
      `deploy would be refused:\n${plan.problems.map((p) => `- ${p.message}`).join("\n")}`,
      2,
    );
  }
  return plan;
}

export async function statusCommand(ctx: CommandContext) {
  const config = await loadConfig(ctx.args, ctx.output, ctx.io.env);
  const client = flyClient(ctx.io);
  const observed = await observe(client, config.app, { signal: ctx.io.signal });
  const state = observed.state;
  // flyctl `status` of an unknown app fails too; exit 0 would let a script read "no machines" as "deployed, empty".
  if (!state.app.exists)
    throw new DeployError("app_not_found", `app ${config.app} does not exist yet; \`deploy\` creates it`, 1, {
      app: config.app,
    });
  const primary = primaryGroups(config);
  const groups = processNames(config).map((name) => ({
    name,
    command: config.processes[name] || null,
    /** The count deploy aims for in this group (recorded by the last deploy or scale). */
    fleetSize: state.app.exists ? recordedGroupSize(state, { name, primary: primary.includes(name) }) : null,
    machines: groupMembers(state.machines, name).length,
  }));
  const releases = releaseHistory(observed.machines).map((r) => ({
    version: r.version,
    image: r.image,
    at: r.at,
    outcome: r.outcome,
  }));
  // Who holds the fleet lock right now, if anyone (its lease on the anchor machine, fleet-lock.ts).
  const lease = observed.anchor?.id
    ? await client.getLease(config.app, observed.anchor.id, { signal: ctx.io.signal })
    : undefined;
  const lock = lease
    ? {
        held: true,
        description: lease.description ?? null,
        owner: lease.owner ?? null,
        expiresAt: lease.expires_at ?? null,
      }
    : { held: false };
  const machines = state.machines.map((m) => ({
    id: m.id,
    region: m.region,
    state: m.state,
    image: m.image,
    release: m.releaseVersion ?? null,
    group: m.processGroup ?? null,
    volume: m.volumeId ?? null,
  }));
  if (!ctx.output.json) {
    {
      const lines = [
        `app ${config.app}${appUrl(config) ? `  ${appUrl(config)}` : ""}`,
        `ips: ${state.ips.map((ip) => `${ip.address} (${ip.kind})`).join(", ") || "none"}`,
      ];
      lines.push(`secrets: ${state.secrets.names.join(", ") || "none"}`);
      lines.push(
        `volumes: ${state.volumes.length} (${state.volumes.filter((v) => !v.attachedMachineId).length} unattached)`,
      );
      if (groups.length === 1 && !hasProcessGroups(config)) {
        lines.push(
          `machines: ${machines.length} (deploy keeps ${recordedFleetSize(state)}; change it with scale --count N)`,
        );
        for (const m of machines)
          lines.push(`  ${m.id}  ${m.region}  ${m.state.padEnd(9)}  release ${m.release ?? "-"}  ${m.image}`);
      } else {
        lines.push(
          `machines: ${machines.length} in ${groups.length} process group(s) (change a group with scale --count N --group G)`,
        );
        for (const g of groups) {
          const inGroup = machines.filter((m) => m.group === g.name);
          lines.push(
            `  group ${g.name}${g.command ? ` (${g.command})` : ""}: ${inGroup.length} machine(s), deploy keeps ${g.fleetSize ?? "-"}`,
          );
          for (const m of inGroup)
            lines.push(`    ${m.id}  ${m.region}  ${m.state.padEnd(9)}  release ${m.release ?? "-"}  ${m.image}`);
        }
        const other = machines.filter((m) => !groups.some((g) => g.name === m.group));
        if (other.length > 0)
          lines.push(`  not in fly.toml: ${other.map((m) => `${m.id} (${m.group ?? "no group"})`).join(", ")}`);
      }
      lines.push(
        lease
          ? `lock: held by ${lease.description || "an unnamed lease"}${lease.owner ? ` (token of ${lease.owner})` : ""}`
          : "lock: free",
      );
      lines.push(
        releases.length > 0 ? `releases (newest first):` : "releases: none recorded yet (every deploy records one)",
      );
      for (const r of releases)
        lines.push(`  v${String(r.version).padEnd(4)} ${r.outcome.padEnd(6)}  ${r.at || "-"}  ${r.image}`);
      ctx.io.stdout(`${lines.join("\n")}\n`);
    }
  }
  return {
    app: config.app,
    exists: state.app.exists,
    url: appUrl(config),
    ips: state.ips,
    secrets: state.secrets.names,
    volumes: state.volumes,
    /** The machine count deploy aims for (recorded by the last deploy or scale). */
    fleetSize: state.app.exists
      ? recordedGroupSize(state, {
          name: defaultProcessName(config),
          primary: primary.includes(defaultProcessName(config)),
        })
      : null,
    groups,
    machines,
    /** Newest first: version, image, when the outcome was recorded, good or failed (deploy/fleet/releases.ts). */
    releases,
    /** Whether another run holds the fleet lock now, and who (deploy/fleet/lock.ts). */
    lock,
  };
}

export async function scaleCommand(ctx: CommandContext) {
  const count = ctx.args.flags.count as number;
  const config = await loadConfig(ctx.args, ctx.output, ctx.io.env);
  const groups = processNames(config);
  const group = typeof ctx.args.flags.group === "string" ? ctx.args.flags.group : defaultProcessName(config);
  if (!groups.includes(group))
    throw usageError(`--group ${group} is not a process group of ${config.app} (${groups.join(", ")})`);
  // DESIGN.md: production (the group serving [http_service]) runs 1-5 machines; other groups any count, 0 included.
  if (primaryGroups(config).includes(group)) {
    if (count < 1 || count > MAX_PRODUCTION_MACHINES)
      throw usageError(
        `--count must be between 1 and ${MAX_PRODUCTION_MACHINES} for ${group === DEFAULT_PROCESS_GROUP && groups.length === 1 ? "production" : `group ${group}, which serves [http_service]`} (got ${count})`,
      );
  } else if (count < 0) {
    throw usageError(`--count must be 0 or more (got ${count})`);
  }
  const client = flyClient(ctx.io);
  const mode = { kind: "scale", count, ...(ctx.args.flags.group !== undefined ? { group } : {}) } as const;
  const options = { ...deployOptions(ctx, client, config), requiredSecrets: [] };
  const result = await runDeploy(hasProcessGroups(config) ? options : { ...options, machineCount: count }, mode);
  ctx.output.step(
    `${result.app} now has ${result.machines.length} machine(s)${hasProcessGroups(config) ? ` (group ${group}: ${count})` : ""}`,
  );
  return deployJson(result);
}

export async function rollbackCommand(ctx: CommandContext) {
  const config = await loadConfig(ctx.args, ctx.output, ctx.io.env);
  const client = flyClient(ctx.io);
  let image = typeof ctx.args.flags.to === "string" ? ctx.args.flags.to : undefined;
  if (!image) image = await previousImage(client, config.app, defaultProcessName(config));
  ctx.output.step(`rolling ${config.app} back to ${image}`);
  const result = await runDeploy({ ...deployOptions(ctx, client, config), image }, { kind: "rollback", image });
  return deployJson(result);
}

/**
 * The image of the last good release before the one the fleet runs (deploy/fleet/releases.ts): read from the
 * history the machines carry, never from the machine versions API, and never a release whose rollout failed.
 */
export async function previousImage(client: FlyClient, app: string, group = DEFAULT_PROCESS_GROUP): Promise<string> {
  const observed = await observe(client, app);
  if (!observed.state.app.exists)
    throw new DeployError("preflight_failed", `app ${app} does not exist; nothing to roll back`, 2, { app });
  const images = groupMembers(observed.state.machines, group).map((m) => m.image);
  if (images.length === 0)
    throw new DeployError("preflight_failed", `app ${app} has no machines to roll back`, 2, { app });
  const choice = rollbackChoice(releaseHistory(observed.machines), images);
  if (!choice.ok) {
    throw new DeployError(
      "preflight_failed",
      `cannot tell which image to roll ${app} back to: ${choice.reason}; nothing was changed. Pass --to IMAGE (see \`bun deploy/run.ts status\`)`,
      2,
      { app },
    );
  }
  return choice.image;
}

function secretsContext(ctx: CommandContext, client: FlyClient, config: DeployConfig): SecretsContext {
  const wait = waitForLockMs(ctx.args);
  return {
    client,
    config,
    output: ctx.output,
    org: ctx.io.env.FLY_ORG || "personal",
    signal: ctx.io.signal,
    env: ctx.io.env,
    ...(wait !== undefined ? { waitForLockMs: wait } : {}),
  };
}

const SECRET_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export async function secretsCommand(ctx: CommandContext) {
  const { subcommand, positionals } = ctx.args;
  if (subcommand === "import")
    return importSecretsCommand(ctx, (client, config) => secretsContext(ctx, client, config));
  if (ctx.args.flags.file !== undefined) throw usageError(`--file is a flag of "secrets import" only`);
  const config = await loadConfig(ctx.args, ctx.output, ctx.io.env);
  if (subcommand === "list") {
    if (positionals.length > 0) throw usageError("secrets list takes no arguments");
    const client = flyClient(ctx.io);
    let secrets: { name: string; digest: string | null; updated_at: string | null }[] = [];
    try {
      secrets = (await client.listSecrets(config.app)).map((s) => ({
        name: s.name ?? "",
        digest: s.digest ?? null,
        updated_at: s.updated_at ?? null,
      }));
    } catch (error) {
      if (!(isFlyApiError(error) && error.status === 404)) throw error;
      ctx.output.step(`app ${config.app} does not exist yet`);
    }
    if (!ctx.output.json)
      ctx.io.stdout(
        secrets.map((s) => `${s.name}\t${s.digest ?? ""}\t${s.updated_at ?? ""}`).join("\n") +
          (secrets.length ? "\n" : ""),
      );
    return { app: config.app, secrets };
  }
  if (subcommand === "set") {
    if (positionals.length === 0) throw usageError("secrets set needs at least one NAME=VALUE");
    const values: Record<string, string> = {};
    for (const pair of positionals) {
      const eq = pair.indexOf("=");
      const name = eq === -1 ? pair : pair.slice(0, eq);
      if (eq <= 0 || !SECRET_NAME.test(name))
        throw usageError(`"${name}" is not NAME=VALUE (names are letters, digits and _, not starting with a digit)`);
      values[name] = pair.slice(eq + 1);
    }
    refuseSecretsProductionRejects(config, values);
    const client = flyClient(ctx.io);
    const change = await setSecrets(secretsContext(ctx, client, config), values);
    return {
      app: config.app,
      set: Object.keys(values).sort(),
      version: change.version,
      createdApp: change.createdApp,
      machinesUpdated: change.rolled,
    };
  }
  if (positionals.length === 0) throw usageError("secrets unset needs at least one NAME");
  for (const name of positionals) if (!SECRET_NAME.test(name)) throw usageError(`"${name}" is not a secret name`);
  const client = flyClient(ctx.io);
  const change = await unsetSecrets(secretsContext(ctx, client, config), positionals);
  return { app: config.app, unset: [...positionals].sort(), version: change.version, machinesUpdated: change.rolled };
}

export async function destroyCommand(ctx: CommandContext) {
  const name = ctx.args.flags.app as string;
  if (ctx.args.flags.yes !== true) throw usageError("destroy needs --yes");
  const client = flyClient(ctx.io);
  const wait = waitForLockMs(ctx.args);
  const goneTimeoutMs = durationFlag(ctx.args, "wait-timeout", "1m or 30s");
  ctx.output.step(`destroying app ${name} and everything in it`);
  const result = await destroyApp(client, name, {
    output: ctx.output,
    signal: ctx.io.signal,
    env: ctx.io.env,
    ...(wait !== undefined ? { waitForLockMs: wait } : {}),
    ...(goneTimeoutMs !== undefined ? { goneTimeoutMs } : {}),
  });
  ctx.output.step(result.existed ? `app ${name} destroyed` : `app ${name} did not exist; nothing to do`);
  return result;
}
