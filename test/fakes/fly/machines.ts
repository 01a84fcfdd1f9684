// /v1/apps/{app}/machines...: create, get, list, update, start, stop, cordon, destroy, wait, events, versions,
// metadata. Lease rules: every mutating call on a leased machine must carry the lease's nonce in
// `fly-machine-lease-nonce` (fly-machines-api.md §5.6); otherwise 409 "lease currently held by", the message
// real flyd returns (seen in the wild: `aborted: machine ID … lease currently held by …, expires at …`).

import type {
  CreateMachineRequest,
  MachineConfig,
  UpdateMachineRequest,
  UpdateMetadataRequest,
} from "../../../lib/fly/types.ts";
import { empty, HttpError, json, requireMachine, stateMatches, validBody, type FakeContext } from "./context.ts";
import { activeLease, newLease } from "./leases.ts";
import { addEvent, boot, destroy, machineView, settleUnlaunched, stop } from "./lifecycle.ts";
import type { Route } from "./router.ts";
import { newVersion, nowIso, randomHex, type FakeApp, type FakeMachine } from "./state.ts";

const RUNNING = new Set(["started", "starting", "replacing", "stopping", "restarting", "updating"]);

export function requireLeaseNonce(machine: FakeMachine, nonce: string | undefined): void {
  const lease = activeLease(machine);
  if (!lease || lease.nonce === nonce) return;
  const expires = new Date(lease.expires_at * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
  throw new HttpError(
    409,
    `aborted: machine ID ${machine.id} lease currently held by ${lease.owner}, expires at ${expires}`,
  );
}

function requireLive(machine: FakeMachine): void {
  if (machine.state === "destroyed" || machine.state === "destroying") {
    throw new HttpError(412, `failed_precondition: machine ${machine.id} is ${machine.state}`);
  }
}

function checkSecretsVersion(app: FakeApp, wanted: number | undefined): void {
  if (wanted !== undefined && wanted > app.secretsVersion) {
    throw new HttpError(
      400,
      `min_secrets_version ${wanted} is ahead of the app's secrets version ${app.secretsVersion}`,
    );
  }
}

function parseRegion(ctx: FakeContext, region: string | undefined): string {
  // Region expressions like "iad,dfw" pick the first listed region here (docs machine-placement).
  const first = (region ?? ctx.options.defaultRegion).split(",")[0]?.trim() ?? "";
  if (!/^[a-z]{3}$/.test(first)) throw new HttpError(400, `unknown region "${region}"`);
  return first;
}

/** A machine mounts at most one volume, of its own region, not attached to another machine. */
function checkMounts(
  app: FakeApp,
  machineId: string,
  region: string,
  config: MachineConfig,
  previous?: MachineConfig,
): void {
  const mounts = config.mounts ?? [];
  if (mounts.length > 1) throw new HttpError(400, "a machine can mount at most one volume");
  const before = previous?.mounts?.[0]?.volume;
  const mount = mounts[0];
  if (previous && before !== mount?.volume && (before || mount)) {
    throw new HttpError(
      400,
      "the volume of an existing machine cannot be changed by an update: destroy the machine and create a new one",
    );
  }
  if (!mount) return;
  if (!mount.volume) throw new HttpError(400, "mounts[0].volume is required (a volume id, vol_...)");
  if (!mount.path) throw new HttpError(400, "mounts[0].path is required");
  const volume = app.volumes.get(mount.volume);
  if (!volume || volume.state === "destroyed") throw new HttpError(400, `volume ${mount.volume} not found`);
  if (volume.region !== region) {
    throw new HttpError(400, `volume ${mount.volume} is in region ${volume.region}, but the machine is in ${region}`);
  }
  if (volume.attached_machine_id && volume.attached_machine_id !== machineId) {
    throw new HttpError(
      412,
      `failed_precondition: volume ${mount.volume} is already attached to machine ${volume.attached_machine_id}`,
    );
  }
}

function attachMount(app: FakeApp, machine: FakeMachine): void {
  const volumeId = machine.config.mounts?.[0]?.volume;
  const volume = volumeId ? app.volumes.get(volumeId) : undefined;
  if (volume) {
    volume.attached_machine_id = machine.id;
    volume.attached_alloc_id = machine.version;
  }
}

export function machineRoutes(ctx: FakeContext): Route[] {
  const base = "/v1/apps/:app/machines";
  return [
    {
      method: "GET",
      path: base,
      handle: ({ app, query }) => {
        const a = app!;
        const includeDeleted = query.get("include_deleted") === "true";
        const region = query.get("region");
        const states = query.get("state")?.split(",").filter(Boolean);
        const summary = query.get("summary") === "true";
        const metadataFilters = [...query.entries()]
          .filter(([key]) => key.startsWith("metadata."))
          .map(([key, value]) => [key.slice(9), value] as const);
        const machines = listed(ctx, a, Date.now()).filter((m) => {
          // Fly lists a machine being destroyed (flyctl filters `destroying` out itself, ListFlyAppsMachines);
          // the instant fake leaves it out, as the suites written against it expect.
          const gone = m.state === "destroyed" || (!ctx.clock && m.state === "destroying");
          if (!includeDeleted && gone) return false;
          if (region && m.region !== region) return false;
          if (states && !states.includes(m.state)) return false;
          return metadataFilters.every(([key, value]) => m.config.metadata?.[key] === value);
        });
        return json(
          machines.map((m) => {
            const view = machineView(m, { includeLease: query.get("include_leases") === "true" });
            if (summary) {
              delete view.config;
              delete view.checks;
              delete view.events;
              delete view.host_status;
            }
            return view;
          }),
        );
      },
    },
    {
      method: "POST",
      path: base,
      handle: ({ app, body }) => {
        const a = app!;
        const input = validBody<CreateMachineRequest>(ctx, "CreateMachineRequest", body);
        if (!input.config?.image) throw new HttpError(400, "config.image is required");
        const region = parseRegion(ctx, input.region);
        if (
          ctx.options.uniqueMachineNames &&
          input.name &&
          [...a.machines.values()].some((m) => m.name === input.name && m.state !== "destroyed")
        ) {
          throw new HttpError(409, `a machine named ${input.name} already exists`);
        }
        checkSecretsVersion(a, input.min_secrets_version);
        const id = randomHex(14);
        const config = structuredClone(input.config);
        checkMounts(a, id, region, config);
        const version = newVersion();
        const at = nowIso();
        const machine: FakeMachine = {
          id,
          name: input.name ?? `${["bold", "calm", "quiet", "swift"][Math.floor(Math.random() * 4)]}-${randomHex(6)}`,
          appName: a.name,
          region,
          state: "created",
          version,
          config,
          versions: [{ version, user_config: structuredClone(config) }],
          events: [],
          checks: [],
          cordoned: input.skip_service_registration === true,
          private_ip: `fdaa:0:1:a7b:${randomHex(4)}:${randomHex(4)}:${randomHex(4)}:2`,
          created_at: at,
          updated_at: at,
          secretsVersion: input.skip_secrets ? 0 : a.secretsVersion,
          skipServiceRegistration: input.skip_service_registration === true,
          generation: 0,
          bornAt: Date.now(),
        };
        a.machines.set(id, machine);
        attachMount(a, machine);
        addEvent(machine, "launch", "created");
        let nonce: string | undefined;
        if (input.lease_ttl && input.lease_ttl > 0) {
          machine.lease = newLease(ctx, machine, input.lease_ttl, "");
          nonce = machine.lease.nonce;
        }
        const launch = () => {
          if (input.skip_launch) settleUnlaunched(ctx, machine);
          else {
            const generation = machine.generation;
            ctx.later(1, () => {
              if (machine.generation === generation && machine.state === "created") boot(ctx, a, machine);
            });
          }
        };
        if (ctx.clock) {
          // Clock mode: the create answers `creating`, a documented transient state, before flyd has the machine.
          machine.state = "creating";
          const generation = machine.generation;
          ctx.later(ctx.clock.ms(ctx.clock.options.creatingMs), () => {
            if (machine.generation !== generation || machine.state !== "creating") return;
            ctx.setState(machine, "created");
            launch();
          });
        } else launch();
        return json(machineView(machine, { nonce }));
      },
    },
    {
      method: "GET",
      path: `${base}/:machine`,
      handle: ({ app, params, query }) => {
        const machine = requireFound(ctx, requireMachine(app!, params.machine!));
        const version = query.get("version");
        if (version && version !== machine.version) {
          const old = machine.versions.find((v) => v.version === version);
          if (!old) throw new HttpError(404, `version ${version} not found`);
          return json({
            ...machineView(machine),
            version,
            instance_id: version,
            state: "replaced",
            config: structuredClone(old.user_config),
          });
        }
        return json(machineView(machine, { includeLease: query.get("include_leases") === "true" }));
      },
    },
    {
      method: "POST",
      path: `${base}/:machine`,
      handle: ({ app, params, body, nonce }) => {
        const a = app!;
        const machine = requireMachine(a, params.machine!);
        requireLive(machine);
        requireLeaseNonce(machine, nonce);
        const input = validBody<UpdateMachineRequest>(ctx, "UpdateMachineRequest", body);
        if (!input.config?.image) throw new HttpError(400, "config.image is required");
        if (input.current_version && input.current_version !== machine.version) {
          throw new HttpError(
            409,
            `current_version ${input.current_version} does not match the machine's version ${machine.version}`,
          );
        }
        if (input.region && parseRegion(ctx, input.region) !== machine.region)
          throw new HttpError(400, "region cannot be changed by an update");
        if (input.name && input.name !== machine.name) throw new HttpError(400, "name cannot be changed by an update");
        checkSecretsVersion(a, input.min_secrets_version);
        const config = structuredClone(input.config);
        checkMounts(a, machine.id, machine.region, config, machine.config);
        const wasRunning = RUNNING.has(machine.state);
        machine.config = config;
        if (ctx.options.updateClearsCordon) machine.cordoned = false;
        machine.version = newVersion();
        machine.versions.unshift({ version: machine.version, user_config: structuredClone(config) });
        if (!input.skip_secrets) machine.secretsVersion = a.secretsVersion;
        if (input.skip_service_registration !== undefined)
          machine.skipServiceRegistration = input.skip_service_registration;
        attachMount(a, machine);
        addEvent(machine, "update", "replacing");
        const replace = () => replaceMachine(ctx, a, machine, input.skip_launch === true, wasRunning);
        if (ctx.clock) {
          // Clock mode: `updating` is visible for a while before flyd replaces the machine.
          const before = machine.state;
          const generation = ++machine.generation;
          ctx.setState(machine, "updating");
          ctx.later(ctx.clock.ms(ctx.clock.options.updatingMs), () => {
            if (machine.generation !== generation) return;
            machine.state = before;
            replace();
          });
        } else replace();
        return json(machineView(machine));
      },
    },
    {
      method: "DELETE",
      path: `${base}/:machine`,
      handle: ({ app, params, query, nonce }) => {
        const a = app!;
        const machine = requireMachine(a, params.machine!);
        if (machine.state === "destroyed") throw new HttpError(404, `machine not found: ${machine.id}`);
        requireLeaseNonce(machine, nonce);
        // Spec/docs name the flag `force`; flyctl sends `kill` (fly-machines-api.md §12.2): accept both.
        const force = query.get("force") === "true" || query.get("kill") === "true";
        if (RUNNING.has(machine.state) && !force) {
          throw new HttpError(
            412,
            `failed_precondition: unable to destroy machine ${machine.id}: it is ${machine.state}, not stopped, suspended or failed (use force=true)`,
          );
        }
        destroy(ctx, a, machine);
        return json({ ok: true });
      },
    },
    {
      method: "POST",
      path: `${base}/:machine/start`,
      handle: ({ app, params, nonce }) => {
        const a = app!;
        const machine = requireMachine(a, params.machine!);
        requireLive(machine);
        requireLeaseNonce(machine, nonce);
        const previous = machine.state;
        if (previous === "replacing" || previous === "stopping") {
          throw new HttpError(412, `failed_precondition: unable to start machine from current state (${previous})`);
        }
        if (previous !== "started" && previous !== "starting") boot(ctx, a, machine);
        return json({ previous_state: previous, migrated: false, new_host: "" });
      },
    },
    {
      method: "POST",
      path: `${base}/:machine/stop`,
      handle: ({ app, params, body, nonce }) => {
        const machine = requireMachine(app!, params.machine!);
        requireLive(machine);
        requireLeaseNonce(machine, nonce);
        validBody(ctx, "StopRequest", body);
        if (RUNNING.has(machine.state) && machine.state !== "stopping") stop(ctx, machine);
        return json({ ok: true });
      },
    },
    ...(["cordon", "uncordon"] as const).map(
      (action): Route => ({
        method: "POST",
        path: `${base}/:machine/${action}`,
        handle: ({ app, params, nonce }) => {
          const machine = requireMachine(app!, params.machine!);
          requireLive(machine);
          requireLeaseNonce(machine, nonce);
          machine.cordoned = action === "cordon";
          return json({ ok: true });
        },
      }),
    ),
    {
      method: "GET",
      path: `${base}/:machine/wait`,
      handle: ({ app, params, query }) => waitFor(ctx, requireFound(ctx, requireMachine(app!, params.machine!)), query),
    },
    {
      method: "GET",
      path: `${base}/:machine/events`,
      handle: ({ app, params, query }) => {
        const machine = requireMachine(app!, params.machine!);
        const limit = Math.min(50, Number(query.get("limit") ?? 20) || 20);
        return json(machine.events.slice(0, limit));
      },
    },
    {
      method: "GET",
      path: `${base}/:machine/versions`,
      handle: ({ app, params }) => json(requireMachine(app!, params.machine!).versions.map((v) => structuredClone(v))),
    },
    {
      method: "GET",
      path: `${base}/:machine/metadata`,
      handle: ({ app, params }) => json({ ...(requireMachine(app!, params.machine!).config.metadata ?? {}) }),
    },
    ...(["PATCH", "PUT"] as const).map(
      (method): Route => ({
        method,
        path: `${base}/:machine/metadata`,
        handle: ({ app, params, body, nonce }) => {
          const machine = requireMachine(app!, params.machine!);
          requireLive(machine);
          requireLeaseNonce(machine, nonce);
          const input = validBody<UpdateMetadataRequest>(ctx, "updateMetadataRequest", body);
          if (input.machine_version && input.machine_version !== machine.version) {
            throw new HttpError(412, `machine_version ${input.machine_version} is stale (current ${machine.version})`);
          }
          // PATCH (and the deprecated PUT) merge: "" removes a key, other keys are untouched (docs §5.7).
          const metadata = { ...(machine.config.metadata ?? {}) };
          for (const [key, value] of Object.entries(input.metadata ?? {})) {
            if (value === "") delete metadata[key];
            else metadata[key] = value;
          }
          machine.config.metadata = metadata;
          return empty(204);
        },
      }),
    ),
    {
      method: "GET",
      path: `${base}/:machine/metadata/:key`,
      handle: ({ app, params }) => {
        const value = requireMachine(app!, params.machine!).config.metadata?.[params.key!];
        if (value === undefined) throw new HttpError(404, `metadata key ${params.key} not found`);
        return json({ value });
      },
    },
    {
      method: "POST",
      path: `${base}/:machine/metadata/:key`,
      handle: ({ app, params, body, nonce }) => {
        const machine = requireMachine(app!, params.machine!);
        requireLive(machine);
        requireLeaseNonce(machine, nonce);
        const input = validBody<{ value?: string }>(ctx, "upsertMetadataKeyRequest", body);
        if (input.value === undefined) throw new HttpError(400, "value is required");
        machine.config.metadata = { ...(machine.config.metadata ?? {}), [params.key!]: input.value };
        return empty(204);
      },
    },
    {
      method: "DELETE",
      path: `${base}/:machine/metadata/:key`,
      handle: ({ app, params, nonce }) => {
        const machine = requireMachine(app!, params.machine!);
        requireLive(machine);
        requireLeaseNonce(machine, nonce);
        const metadata = { ...(machine.config.metadata ?? {}) };
        delete metadata[params.key!];
        machine.config.metadata = metadata;
        return empty(204);
      },
    },
  ];
}

/** What an update does once flyd takes it: leave a non-running machine stopped, or replace and boot it. */
function replaceMachine(ctx: FakeContext, a: FakeApp, machine: FakeMachine, skipLaunch: boolean, wasRunning: boolean) {
  if (skipLaunch && !wasRunning) {
    // flyd: "machine was in a non-started state prior to the update so leaving the new version stopped"
    ctx.setState(machine, machine.state === "created" ? "created" : "stopped");
  } else if (wasRunning) {
    const generation = ++machine.generation;
    ctx.setState(machine, "replacing");
    machine.checks = [];
    ctx.later(ctx.timings.stopMs, () => {
      if (machine.generation === generation) boot(ctx, a, machine);
    });
  } else {
    boot(ctx, a, machine);
  }
}

/** Clock mode: a machine created less than `notFoundMs` ago is not found yet (flyctl#4618). */
function requireFound(ctx: FakeContext, machine: FakeMachine): FakeMachine {
  if (ctx.clock && Date.now() - machine.bornAt < ctx.clock.ms(ctx.clock.options.notFoundMs)) {
    throw new HttpError(404, `machine not found: ${machine.id}`);
  }
  return machine;
}

/**
 * The machines a list shows. Clock mode lags: one created less than `listLagMs` ago is missing, and one
 * destroyed less than that ago is still listed as `destroying`.
 */
function listed(ctx: FakeContext, app: FakeApp, now: number): FakeMachine[] {
  const all = [...app.machines.values()];
  if (!ctx.clock) return all;
  const lag = ctx.clock.ms(ctx.clock.options.listLagMs);
  return all
    .filter((m) => now - m.bornAt >= lag)
    .map((m) =>
      m.state === "destroyed" && m.goneAt !== undefined && now - m.goneAt < lag ? { ...m, state: "destroying" } : m,
    );
}

const WAITABLE = new Set(["started", "stopped", "suspended", "destroyed", "failed", "settled"]);

/** GET /wait: blocks until the machine is in one of the states, or answers 408 after `timeout` seconds. */
function waitFor(ctx: FakeContext, machine: FakeMachine, query: URLSearchParams): Response | Promise<Response> {
  const raw = query
    .getAll("state")
    .flatMap((s) => s.split(","))
    .filter(Boolean);
  const wanted = new Set(raw.length > 0 ? raw : ["started"]);
  for (const state of wanted)
    if (!WAITABLE.has(state))
      throw new HttpError(400, `invalid state "${state}": want one of ${[...WAITABLE].join(", ")}`);
  const timeoutText = query.get("timeout") ?? "60";
  const timeout = Number(timeoutText);
  if (!Number.isInteger(timeout) || timeout < 1)
    throw new HttpError(400, `invalid timeout "${timeoutText}": want whole seconds`);
  // Clock mode keeps the spec's bound (integer seconds, max 60) instead of clamping as the instant fake does.
  if (ctx.clock && timeout > 60) throw new HttpError(400, `invalid timeout "${timeoutText}": at most 60 seconds`);
  const answer = () =>
    json(
      ctx.options.waitResponse === "ok_only"
        ? { ok: true }
        : { ok: true, state: machine.state, version: machine.version, event_id: machine.events[0]?.id ?? "" },
    );
  if (stateMatches(wanted, machine.state)) return answer();
  if (machine.state === "destroyed") throw new HttpError(404, `machine not found: ${machine.id} (destroyed)`);
  return new Promise<Response>((resolve) => {
    const waiter = {
      machine,
      wanted,
      resolve(outcome: "reached" | "gone" | "timeout") {
        if (!ctx.waiters.delete(waiter)) return;
        if (outcome === "reached") resolve(answer());
        else if (outcome === "gone") resolve(json({ error: `machine not found: ${machine.id} (destroyed)` }, 404));
        else
          resolve(
            json(
              {
                error: `deadline_exceeded: machine ${machine.id} did not reach ${[...wanted].join("|")} within ${timeout}s (state ${machine.state})`,
              },
              408,
            ),
          );
      },
    };
    ctx.waiters.add(waiter);
    const timeoutMs = Math.min(timeout, 60) * 1000;
    ctx.later(ctx.clock ? ctx.clock.ms(timeoutMs) : timeoutMs, () => waiter.resolve("timeout"));
  });
}
