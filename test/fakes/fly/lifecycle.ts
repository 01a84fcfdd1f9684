// Machine state machine (docs machines/machine-states): created -> starting -> started; stop: stopping ->
// stopped; update of a running machine: replacing -> starting -> started on the new version; destroy:
// destroying -> destroyed. Transitions run on timers so clients have to wait like they would on Fly.

import type { CheckStatus, Machine, MachineConfig, MachineEvent } from "../../../lib/fly/types.ts";
import type { FakeContext } from "./context.ts";
import { machineLog } from "./logs.ts";
import { nowIso, randomHex, type FakeApp, type FakeMachine } from "./state.ts";

export function addEvent(
  machine: FakeMachine,
  type: string,
  status: string,
  request: Record<string, unknown> = {},
): MachineEvent {
  const event: MachineEvent = {
    id: randomHex(26).toUpperCase(),
    type,
    status,
    source: type === "exit" ? "flyd" : "user",
    timestamp: Date.now(),
    request: request as MachineEvent["request"],
  };
  machine.events.unshift(event);
  return event;
}

/** Starts the machine's main process: starting, then started after bootMs (unless a fault says otherwise). */
export function boot(ctx: FakeContext, app: FakeApp, machine: FakeMachine): void {
  const generation = ++machine.generation;
  machine.checks = [];
  ctx.setState(machine, "starting");
  machineLog(ctx, machine, `Pulling container image ${machine.config.image ?? ""}`);
  ctx.later(ctx.timings.bootMs, () => {
    if (machine.generation !== generation) return;
    if (ctx.faults.neverStarts(machine)) return;
    if (ctx.faults.failsToStart(machine)) {
      machineLog(ctx, machine, "Main child exited with code: 1", "runner", "error");
      addEvent(machine, "exit", "failed", { exit_event: exitEvent(1, false) });
      ctx.setState(machine, "failed");
      return;
    }
    machineLog(ctx, machine, `Machine started in ${ctx.timings.bootMs}ms`);
    machineLog(ctx, machine, "Listening on http://0.0.0.0:3000", "app");
    addEvent(machine, "start", "started");
    app.deployed = true;
    startChecks(ctx, machine, generation);
    ctx.setState(machine, "started");
    if (machine.config.auto_destroy) runToCompletion(ctx, app, machine, generation);
  });
}

/** Health checks named as Fly names them: top-level by key, service checks `servicecheck-NN-<type>-<port>`. */
export function checkNames(config: MachineConfig): string[] {
  const names = Object.keys(config.checks ?? {});
  for (const service of config.services ?? []) {
    (service.checks ?? []).forEach((check, index) => {
      names.push(
        `servicecheck-${String(index).padStart(2, "0")}-${check.type ?? "tcp"}-${check.port ?? service.internal_port ?? 0}`,
      );
    });
  }
  return names;
}

function startChecks(ctx: FakeContext, machine: FakeMachine, generation: number): void {
  const names = checkNames(machine.config);
  if (names.length === 0) return;
  const at = nowIso();
  machine.checks = names.map(
    (name): CheckStatus => ({
      name,
      status: "critical",
      output: "waiting for the first check to pass",
      updated_at: at,
    }),
  );
  if (ctx.faults.checksFail(machine)) return;
  ctx.later(ctx.timings.checksPassMs, () => {
    if (machine.generation !== generation || machine.state !== "started") return;
    const passedAt = nowIso();
    machine.checks = names.map(
      (name): CheckStatus => ({ name, status: "passing", output: "OK", updated_at: passedAt }),
    );
  });
}

/** An auto_destroy machine's process exits on its own (release command): stopped, then destroyed. */
function runToCompletion(ctx: FakeContext, app: FakeApp, machine: FakeMachine, generation: number): void {
  ctx.later(ctx.timings.runMs, () => {
    if (machine.generation !== generation || machine.state !== "started") return;
    const code = ctx.faults.exitCodeFor(machine);
    machine.exitCode = code;
    machineLog(ctx, machine, `Main child exited normally with code: ${code}`, "runner", code === 0 ? "info" : "error");
    // fly-go reads the code from event.request.exit_event.exit_code (flyctl machines_releasecommand.go).
    addEvent(machine, "exit", "stopped", { exit_event: exitEvent(code, false) });
    machine.checks = [];
    ctx.setState(machine, "stopped");
    if (!ctx.faults.survivesExit(machine)) destroy(ctx, app, machine);
  });
}

export function stop(ctx: FakeContext, machine: FakeMachine): void {
  const generation = ++machine.generation;
  ctx.setState(machine, "stopping");
  machineLog(ctx, machine, "Sending signal SIGINT to main child process w/ PID 313");
  ctx.later(ctx.timings.stopMs, () => {
    if (machine.generation !== generation) return;
    addEvent(machine, "exit", "stopped", { exit_event: exitEvent(0, true) });
    machine.checks = [];
    ctx.setState(machine, "stopped");
  });
}

/** skip_launch: flyd prepares the machine and leaves it stopped (flyctl waits for `stopped` after such a create). */
export function settleUnlaunched(ctx: FakeContext, machine: FakeMachine): void {
  const generation = ++machine.generation;
  ctx.later(1, () => {
    if (machine.generation !== generation || machine.state !== "created") return;
    ctx.setState(machine, "stopped");
  });
}

export function destroy(ctx: FakeContext, app: FakeApp, machine: FakeMachine): void {
  const generation = ++machine.generation;
  ctx.setState(machine, "destroying");
  machine.lease = undefined;
  ctx.later(ctx.timings.destroyMs, () => {
    if (machine.generation !== generation) return;
    for (const volume of app.volumes.values()) {
      if (volume.attached_machine_id === machine.id) {
        volume.attached_machine_id = undefined;
        volume.attached_alloc_id = undefined;
      }
    }
    machine.checks = [];
    addEvent(machine, "destroy", "destroyed");
    ctx.setState(machine, "destroyed");
  });
}

function exitEvent(code: number, requestedStop: boolean): Record<string, unknown> {
  return {
    exit_code: code,
    guest_exit_code: code,
    guest_signal: -1,
    signal: -1,
    oom_killed: false,
    requested_stop: requestedStop,
    restarting: false,
    exited_at: new Date().toISOString(),
  };
}

/**
 * The machine as the API returns it. The real API answers `autostop` "off"/"stop" as false/true (spec
 * description of fly.MachineService.autostop), so the fake does too: a client that compares configs
 * field by field has to cope with it.
 */
export function machineView(machine: FakeMachine, opts: { includeLease?: boolean; nonce?: string } = {}): Machine {
  const config = responseConfig(machine.config);
  const view: Machine = {
    id: machine.id,
    name: machine.name,
    state: machine.state,
    region: machine.region,
    instance_id: machine.version,
    version: machine.version,
    private_ip: machine.private_ip,
    config,
    image_ref: imageRef(machine.config.image ?? ""),
    checks: machine.checks.map((c) => ({ ...c })),
    events: machine.events.slice(0, 20).map((e) => structuredClone(e)),
    host_status: "ok",
    cordoned: machine.cordoned,
    created_at: machine.created_at,
    updated_at: machine.updated_at,
  };
  if (opts.includeLease && machine.lease && machine.lease.expires_at * 1000 > Date.now()) {
    view.lease = {
      owner: machine.lease.owner,
      description: machine.lease.description,
      expires_at: machine.lease.expires_at,
    };
  }
  if (opts.nonce) view.nonce = opts.nonce;
  return view;
}

export function responseConfig(config: MachineConfig): MachineConfig {
  const copy = structuredClone(config);
  for (const service of copy.services ?? []) {
    const autostop = service.autostop as unknown;
    if (autostop === "off") (service as Record<string, unknown>).autostop = false;
    if (autostop === "stop") (service as Record<string, unknown>).autostop = true;
  }
  return copy;
}

function imageRef(image: string): Machine["image_ref"] {
  const [namePart, digest] = image.split("@");
  const name = namePart ?? "";
  const slash = name.indexOf("/");
  const hasRegistry = slash > 0 && /[.:]/.test(name.slice(0, slash));
  const registry = hasRegistry ? name.slice(0, slash) : "docker-hub-mirror.fly.io";
  const rest = hasRegistry ? name.slice(slash + 1) : name;
  const colon = rest.lastIndexOf(":");
  const repository = colon > 0 ? rest.slice(0, colon) : rest;
  const tag = colon > 0 ? rest.slice(colon + 1) : digest ? "" : "latest";
  // A stable digest per image reference, so two GETs of the same machine agree.
  const stable = new Bun.CryptoHasher("sha256").update(image).digest("hex");
  return { registry, repository, tag, digest: digest ?? `sha256:${stable}`, labels: {} };
}
