// The release command's machine is watched until the API says how it ended (deploy/apply/release-watch.ts): a
// failure is reported as soon as it is visible, not after release_command_timeout, and no app machine moves.
// Against the fake Fly API with release_command_timeout at 30 s, so waiting it out would show.
import { afterEach, expect, test } from "bun:test";
import { runDeploy } from "../../../deploy/apply/deploy.ts";
import { DeployError } from "../../../deploy/deploy-error.ts";
import { createLogsClient } from "../../../lib/fly/logs.ts";
import type { FakeOptions } from "../../fakes/fly-machines.ts";
import type { FakeMachine } from "../../fakes/fly/state.ts";
import { APP, appMachines, harness, type Harness, IMAGE_V1, IMAGE_V2, productionConfig } from "../harness.ts";

let h: Harness;
afterEach(() => h?.close());

const isRelease = (m: FakeMachine) => m.config.metadata?.fly_process_group === "fly_app_release_command";

/** A fleet on IMAGE_V1 whose release command may take 30 s; the call log cleared. */
async function fleet(fakeOptions: FakeOptions = {}): Promise<Harness> {
  const made = await harness(fakeOptions, await productionConfig({ releaseTimeout: "30s" }));
  await made.seedSecrets();
  await runDeploy(made.options());
  made.fly.calls.length = 0;
  return made;
}

/** Deploys IMAGE_V2 expecting failure; how long it took and the error. */
async function failedDeploy(): Promise<{ error: DeployError; tookMs: number }> {
  const logs = createLogsClient({ baseUrl: h.fly.url, token: h.fly.token });
  const started = performance.now();
  const error = await runDeploy(h.options({ image: IMAGE_V2, logs })).then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof DeployError)) throw new Error(`expected a DeployError, got ${String(error)}`);
  return { error, tookMs: performance.now() - started };
}

/** Writes to the app's own machines other than leases and metadata: updates, lifecycle actions, destroys. */
function appMachineChanges(): string[] {
  const ids = appMachines(h.fly).map((m) => m.id);
  return h.fly
    .mutatingCalls()
    .filter((c) =>
      ids.some((id) => new RegExp(`/machines/${id}(/(start|stop|restart|suspend|cordon|uncordon))?$`).test(c.path)),
    )
    .map((c) => `${c.method} ${c.path}`);
}

/** A machine's state as the fake holds it, destroyed ones included. */
const stateOf = (id: string | undefined) => h.fly.state.apps.get(APP)?.machines.get(id ?? "")?.state;

function expectFleetUntouched(): void {
  expect(appMachineChanges()).toEqual([]);
  expect(appMachines(h.fly).every((m) => m.config.image === IMAGE_V1 && m.state === "started")).toBe(true);
}

test.each([
  ["the wait answers with the state", {}],
  ["the wait answers without the state", { waitResponse: "ok_only" as const }],
])(
  "a release command that exits 1 and is not destroyed fails the deploy at once, with its exit code and last log lines (%s)",
  async (_, fakeOptions) => {
    h = await fleet(fakeOptions);
    h.fly.faults.exitCode(1, isRelease).surviveExit(isRelease);

    const { error, tookMs } = await failedDeploy();

    expect(tookMs).toBeLessThan(3000);
    expect(error).toMatchObject({
      code: "release_command_failed",
      exitCode: 1,
      context: { exitCode: 1, state: "stopped" },
    });
    expect(error.message).toContain("exited with status 1");
    expect(error.message).toContain("Main child exited normally with code: 1");
    expectFleetUntouched();

    // The release machine auto_destroy left behind is removed by the next deploy, which then goes through.
    const leftover = h.fly.machines(APP).find(isRelease);
    expect(leftover?.state).toBe("stopped");
    h.fly.faults.clear();
    await runDeploy(h.options({ image: IMAGE_V2 }));
    expect(["destroying", "destroyed"]).toContain(stateOf(leftover?.id) ?? "gone");
    expect(appMachines(h.fly).every((m) => m.config.image === IMAGE_V2)).toBe(true);
  },
);

test("a release machine that cannot start (state failed) fails the deploy at once", async () => {
  h = await fleet();
  h.fly.faults.failStart(isRelease);

  const { error, tookMs } = await failedDeploy();

  expect(tookMs).toBeLessThan(3000);
  expect(error.code).toBe("release_command_failed");
  expect(error.message).toContain("could not start");
  expect(error.message).toContain("state failed");
  expectFleetUntouched();
  // Not taken by auto_destroy (it never exited), so the deploy destroyed it.
  const release = [...(h.fly.state.apps.get(APP)?.machines.values() ?? [])].filter(
    (m) => isRelease(m) && m.config.image === IMAGE_V2,
  );
  expect(release).toHaveLength(1);
  expect(["destroying", "destroyed"]).toContain(release[0]!.state);
});

test("a release command that exits 0 and is not destroyed lets the deploy go on (the checks above can fail)", async () => {
  h = await fleet();
  h.fly.faults.surviveExit(isRelease);
  const started = performance.now();
  await runDeploy(h.options({ image: IMAGE_V2 }));
  expect(performance.now() - started).toBeLessThan(10_000);
  expect(appMachines(h.fly).every((m) => m.config.image === IMAGE_V2)).toBe(true);
});
