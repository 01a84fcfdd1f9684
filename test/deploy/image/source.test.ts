// `deploy` without --image builds the project daemonlessly, pushes it to FLY_REGISTRY as
// <app>:deployment-<id> and deploys the digest-pinned reference (issue 5). Against a real registry
// (Debian's docker-registry with htpasswd, user "x" and FLY_API_TOKEN as the password, as on Fly) and
// the fake Fly API; both accept the same token, as registry.fly.io and api.machines.dev do.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { RegistryClient } from "../../../deploy/image/index.ts";
import { deploymentId } from "../../../deploy/image/source.ts";
import { main } from "../../../deploy/run.ts";
import { createFlyClient } from "../../../lib/fly/client.ts";
import { startFakeFly, type FakeFly } from "../../fakes/fly-machines.ts";
import { createFixtureProject, pushFixtureBase } from "./helpers/fixture.ts";
import { registryOrSkip, startRegistry, type TestRegistry } from "./helpers/registry.ts";
import { APP, appMachines, captureIo, GOOD_SECRETS } from "../harness.ts";

test("deployment ids sort by time and name the commit when there is one", () => {
  const at = new Date("2025-01-02T03:04:05.678Z");
  expect(deploymentId({ GITHUB_SHA: "0123456789abcdef0123456789abcdef01234567" }, at)).toBe(
    "20250102T030405Z-0123456789ab",
  );
  const local = deploymentId({}, at);
  expect(local).toMatch(/^20250102T030405Z-[0-9a-f]{8}$/);
  expect(local).not.toBe(deploymentId({}, at));
  // A valid registry tag once prefixed with "deployment-" (distribution: [\w][\w.-]{0,127}).
  expect(`deployment-${local}`).toMatch(/^[\w][\w.-]{0,127}$/);
});

// Each deploy builds (dependency install included) and pushes: seconds, more on a busy machine.
setDefaultTimeout(60_000);

const run = registryOrSkip("deploy without --image (build + push to a real registry)");

describe.skipIf(!run)("deploy without --image against a real registry", () => {
  let registry: TestRegistry;
  let fly: FakeFly;
  let project: string;
  let env: Record<string, string>;
  const BASE_TAG = `${Bun.version}-slim`;

  beforeAll(async () => {
    registry = await startRegistry({ username: "x" });
    fly = startFakeFly({ token: registry.password });
    const creds = { username: "x", password: registry.password };
    await pushFixtureBase(new RegistryClient({ registry: registry.host, credentials: creds }), "oven/bun", BASE_TAG);
    project = createFixtureProject();
    const flyToml = (await Bun.file(new URL("../../../fly.toml", import.meta.url)).text()).replace(
      /wait_timeout = "[^"]*"/,
      'wait_timeout = "3s"',
    );
    writeFileSync(join(project, "fly.toml"), flyToml);
    env = {
      FLY_API_TOKEN: registry.password,
      FLY_FLAPS_BASE_URL: fly.url,
      FLY_REGISTRY: registry.host,
      FLIGHTDECK_IMAGE_BASE: `${registry.host}/oven/bun:${BASE_TAG}`,
      GITHUB_SHA: "89abcdef0123456789abcdef0123456789abcdef",
    };
  });

  afterAll(async () => {
    fly?.close();
    await registry?.close();
    if (project) rmSync(project, { recursive: true, force: true });
  });

  async function deploy(extra: string[] = []) {
    const io = captureIo(env);
    const code = await main(["deploy", "--config", join(project, "fly.toml"), "--json", ...extra], io);
    return { code, out: io.out.join(""), err: io.err.join("") };
  }

  async function catalog(): Promise<string[]> {
    const res = await fetch(`${registry.url}/v2/_catalog`, {
      headers: { authorization: `Basic ${btoa(`x:${registry.password}`)}` },
    });
    expect(res.status).toBe(200);
    return ((await res.json()) as { repositories?: string[] }).repositories ?? [];
  }

  test("a deploy refused at preflight (no secrets yet) builds and pushes nothing", async () => {
    const r = await deploy();
    expect(r.code).toBe(2);
    expect(r.err).toContain("missing secrets");
    expect(await catalog()).not.toContain(APP);
    expect(fly.mutatingCalls()).toEqual([]);
  });

  test("builds, pushes deployment-<id> and runs the digest-pinned reference; a re-run is a no-op on Fly", async () => {
    const client = createFlyClient({ baseUrl: fly.url, token: fly.token });
    await client.createApp({ name: APP, org_slug: "personal" });
    await client.setSecrets(APP, GOOD_SECRETS);

    const r = await deploy();
    expect(r.err).not.toContain(registry.password);
    expect(r.code).toBe(0);
    const result = JSON.parse(r.out) as { image: string; machines: { image: string }[] };
    expect(result.image).toMatch(new RegExp(`^${registry.host.replace(/\./g, "\\.")}/${APP}@sha256:[0-9a-f]{64}$`));
    expect(result.machines).toHaveLength(5);
    expect(appMachines(fly).every((m) => m.config.image === result.image)).toBe(true);

    // The tag flyctl would push, with the commit in it, points at the same manifest the machines run.
    const tag = /pushed \S+:(deployment-\S+) /.exec(r.err)?.[1];
    expect(tag).toMatch(/^deployment-\d{8}T\d{6}Z-89abcdef0123$/);
    const registryClient = new RegistryClient({
      registry: registry.host,
      credentials: { username: "x", password: registry.password },
    });
    const manifest = await registryClient.getManifest(APP, tag!);
    expect(`${registry.host}/${APP}@${manifest.digest}`).toBe(result.image);
    expect(await catalog()).toContain(APP);

    // The build is deterministic: the same tree gives the same digest, so Fly sees nothing to change.
    fly.calls.length = 0;
    const again = await deploy();
    expect(again.code).toBe(0);
    expect(JSON.parse(again.out).image).toBe(result.image);
    expect(fly.mutatingCalls()).toEqual([]);

    // A source change is a new digest, rolled out like any new image.
    writeFileSync(join(project, "src/server.ts"), 'console.log("server v2");\n');
    const changed = await deploy();
    expect(changed.code).toBe(0);
    const next = JSON.parse(changed.out).image as string;
    expect(next).not.toBe(result.image);
    expect(appMachines(fly).every((m) => m.config.image === next)).toBe(true);
  });

  test("plan without --image builds nothing and says the deploy would build first", async () => {
    const before = await catalog();
    const io = captureIo(env);
    expect(await main(["plan", "--config", join(project, "fly.toml")], io)).toBe(0);
    expect(io.out.join("")).toContain("warning: no --image: deploy would first build and push a new image");
    expect(await catalog()).toEqual(before);
  });

  test("--image skips the build entirely", async () => {
    const before = (await catalog()).length;
    const image = `${registry.host}/${APP}:deployment-v1`;
    const r = await deploy(["--image", image]);
    expect(r.code).toBe(0);
    expect(r.err).not.toContain("building the image");
    expect(appMachines(fly).every((m) => m.config.image === image)).toBe(true);
    expect((await catalog()).length).toBe(before);
  });

  test("a failed build (base image missing) exits 1, says Fly was not changed, and Fly is untouched", async () => {
    fly.calls.length = 0;
    const io = captureIo({ ...env, FLIGHTDECK_IMAGE_BASE: `${registry.host}/oven/bun:no-such-tag` });
    writeFileSync(join(project, "src/server.ts"), 'console.log("server v3");\n');
    const code = await main(["deploy", "--config", join(project, "fly.toml")], io);
    expect(code).toBe(1);
    expect(io.err.join("")).toContain("[registry_not_found]");
    expect(io.err.join("")).toContain("nothing on Fly was changed");
    expect(io.err.join("")).not.toContain(registry.password);
    expect(fly.mutatingCalls()).toEqual([]);
  });
});
