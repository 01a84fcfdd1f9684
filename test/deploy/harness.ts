// Shared set-up for the deploy scenario tests: the fake Fly API, a client pointed at it with short retry
// delays, and the production fly.toml with timeouts shrunk so failure paths finish in test time.
import { createFlyClient, type FlyClient } from "../../lib/fly/client.ts";
import { createOutput, type CliIo, type Output } from "../../deploy/output.ts";
import { parseDeployConfig, type DeployConfig } from "../../deploy/config/flytoml.ts";
import { runDeploy, type DeployOptions } from "../../deploy/apply/deploy.ts";
import { startFakeFly, type FakeFly, type FakeOptions } from "../fakes/fly-machines.ts";

export const APP = "flightdeck";
export const IMAGE_V1 = "registry.fly.io/flightdeck:deployment-v1";
export const IMAGE_V2 = "registry.fly.io/flightdeck:deployment-v2";
export const GOOD_SECRETS = {
  DATABASE_URL: "postgres://app:pw@db.internal:5432/app",
  SECRET_KEY: "k".repeat(40),
};

/** The real fly.toml, with wait/release timeouts shortened (the rest is what production deploys). */
export async function productionConfig(
  overrides: { waitTimeout?: string; releaseTimeout?: string; strategy?: string } = {},
): Promise<DeployConfig> {
  let text = await Bun.file(new URL("../../fly.toml", import.meta.url)).text();
  text = text.replace(/wait_timeout = "[^"]*"/, `wait_timeout = "${overrides.waitTimeout ?? "3s"}"`);
  text = text.replace(
    /release_command_timeout = "[^"]*"/,
    `release_command_timeout = "${overrides.releaseTimeout ?? "3s"}"`,
  );
  if (overrides.strategy) text = text.replace(/strategy = "rolling"/, `strategy = "${overrides.strategy}"`);
  const parsed = parseDeployConfig(text, { path: "fly.toml" });
  if (!parsed.ok) throw new Error(`fly.toml does not parse: ${JSON.stringify(parsed.problems)}`);
  return parsed.config;
}

export interface Harness {
  fly: FakeFly;
  client: FlyClient;
  lines: string[];
  output: Output;
  options(extra?: Partial<DeployOptions>): DeployOptions;
  /** Seeds the app with the production secrets, as `secrets set` would have. */
  seedSecrets(values?: Record<string, string>): Promise<void>;
  close(): Promise<void>;
}

export function captureIo(env: Record<string, string | undefined> = {}): CliIo & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { env, out, err, stdout: (t) => void out.push(t), stderr: (t) => void err.push(t), isTTY: false };
}

export async function harness(fakeOptions: FakeOptions = {}, config?: DeployConfig): Promise<Harness> {
  const fly = startFakeFly(fakeOptions);
  const client = createFlyClient({
    baseUrl: fly.url,
    token: fly.token,
    retry: { baseDelayMs: 5, maxDelayMs: 20, rateLimitDelayMs: 20 },
    deadlineMs: 20_000,
    timeoutMs: 10_000,
  });
  const io = captureIo();
  const lines = io.err;
  const output = createOutput(io, { json: false });
  const cfg = config ?? (await productionConfig());
  return {
    fly,
    client,
    lines,
    output,
    options: (extra = {}) => ({
      client,
      config: cfg,
      image: IMAGE_V1,
      output,
      pollMs: 10,
      waitForLockMs: 200,
      env: {},
      ...extra,
    }),
    async seedSecrets(values = GOOD_SECRETS) {
      if (!fly.state.apps.has(APP)) await client.createApp({ name: APP, org_slug: "personal" });
      await client.setSecrets(APP, values);
      fly.calls.length = 0;
    },
    close: () => fly.close(),
  };
}

/** A production fleet already deployed on IMAGE_V1, with the call log cleared so a test sees only its own calls. */
export async function deployedFleet(fakeOptions: FakeOptions = {}): Promise<Harness> {
  const h = await harness(fakeOptions);
  await h.seedSecrets();
  await runDeploy(h.options());
  h.fly.calls.length = 0;
  return h;
}

/** Stops one machine of a deployed fleet, as the proxy's autostop would, and clears the call log; returns its id. */
export async function stopOneMachine(h: Harness): Promise<string> {
  const id = appMachines(h.fly)[2]!.id;
  await h.client.stopMachine(APP, id);
  await h.client.waitMachine(APP, id, { state: "stopped" });
  h.fly.calls.length = 0;
  return id;
}

/** The app's managed machines as the fake holds them (not destroyed, not release machines). */
export function appMachines(fly: FakeFly, app = APP) {
  return fly.machines(app).filter((m) => m.config.metadata?.fly_process_group === "app" && m.state !== "destroying");
}

export function mutating(fly: FakeFly) {
  return fly.mutatingCalls().map((c) => `${c.method} ${c.path.replace(/\/v1\/apps\/[^/]+/, "")}`);
}
