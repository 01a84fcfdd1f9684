import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  imageCommand,
  RegistryClient,
  RegistryPool,
  buildImage,
  pushImage,
  ImageError,
} from "../../../deploy/image/index.ts";
import { startDropper } from "./helpers/dropper.ts";
import { createFixtureProject, pushFixtureBase } from "./helpers/fixture.ts";
import {
  freePort,
  REGISTRY_SETUP_TIMEOUT_MS,
  registryOrSkip,
  startRegistry,
  type TestRegistry,
} from "./helpers/registry.ts";

const run = registryOrSkip("deploy/image CLI tests");

function capture() {
  const out = { stdout: "", stderr: "" };
  return {
    out,
    io: {
      stdout: (t: string) => {
        out.stdout += t;
      },
      stderr: (t: string) => {
        out.stderr += t;
      },
    },
  };
}

describe("imageCommand usage errors (no registry needed)", () => {
  test.each([
    [["image"], "missing subcommand"],
    [["image", "push"], 'unknown image subcommand "push"'],
    [["build", "--bogus"], 'unknown option "--bogus"'],
    [["build", "--tag"], "--tag needs a value"],
    [["build", "--tag", "bad tag!"], "not a valid tag"],
  ])("%p exits 2 with %p", async (argv, message) => {
    const { out, io } = capture();
    expect(await imageCommand(argv, { ...io, env: {} })).toBe(2);
    expect(out.stderr).toContain(message);
    expect(out.stderr).toContain("usage: image build");
  });

  test("--push without FLY_API_TOKEN exits 2 and says how to fix it", async () => {
    const { out, io } = capture();
    expect(await imageCommand(["build", "--push", "--app", "x"], { ...io, env: {} })).toBe(2);
    expect(out.stderr).toContain("FLY_API_TOKEN is not set");
  });
});

describe.skipIf(!run)("imageCommand and network faults against a real registry", () => {
  let registry: TestRegistry;
  let project: string;
  const base = () => `${registry.host}/oven/bun:${Bun.version}-slim`;

  // Starting docker-registry and pushing the fixture base takes seconds on a loaded machine; Bun's hooks keep
  // a 5 s default whatever bunfig.toml says.
  beforeAll(async () => {
    registry = await startRegistry({ username: "x" });
    await pushFixtureBase(
      new RegistryClient({ registry: registry.host, credentials: { username: "x", password: registry.password } }),
      "oven/bun",
      `${Bun.version}-slim`,
    );
    project = createFixtureProject();
    writeFileSync(join(project, "fly.toml"), 'app = "cli-app"\nprimary_region = "ewr"\n');
  }, REGISTRY_SETUP_TIMEOUT_MS);
  afterAll(async () => {
    await registry?.close();
    if (project) rmSync(project, { recursive: true, force: true });
  });

  test("image build --push --json prints the digest reference; the token never appears", async () => {
    const { out, io } = capture();
    const env = { FLY_REGISTRY: registry.host, FLY_API_TOKEN: registry.password, FLIGHTDECK_IMAGE_BASE: base() };
    const code = await imageCommand(["image", "build", "--push", "--json", "--tag", "deployment-7"], {
      ...io,
      env,
      cwd: project,
    });
    expect(out.stderr).not.toContain(registry.password);
    expect(code).toBe(0);
    const result = JSON.parse(out.stdout);
    expect(result.reference).toMatch(
      new RegExp(`^${registry.host.replace(/\./g, "\\.")}/cli-app@sha256:[a-f0-9]{64}$`),
    );
    expect(result.tagged).toBe(`${registry.host}/cli-app:deployment-7`);
    expect(result.pushed).toBe(true);
    expect(result.layers).toHaveLength(2);
    expect(out.stdout).not.toContain(registry.password);
    const manifest = await new RegistryClient({
      registry: registry.host,
      credentials: { username: "x", password: registry.password },
    }).getManifest("cli-app", "deployment-7");
    expect(`${registry.host}/cli-app@${manifest.digest}`).toBe(result.reference);

    // Without --push: the same digest is printed, nothing is sent.
    const again = capture();
    expect(await imageCommand(["build"], { ...again.io, env, cwd: project })).toBe(0);
    expect(again.out.stdout.trim()).toBe(result.reference);
  });

  test("a rejected token exits 1 with the registry's answer and no secret", async () => {
    const { out, io } = capture();
    const env = { FLY_REGISTRY: registry.host, FLY_API_TOKEN: "fo1_wrong_token_value", FLIGHTDECK_IMAGE_BASE: base() };
    expect(await imageCommand(["build", "--push", "--json"], { ...io, env, cwd: project })).toBe(1);
    expect(out.stderr).toContain("[registry_unauthorized]");
    expect(JSON.parse(out.stdout).error.code).toBe("registry_unauthorized");
    expect(out.stdout + out.stderr).not.toContain("fo1_wrong_token_value");
  });

  test("dropped connections are retried and the push completes", async () => {
    const port = Number(registry.host.split(":")[1]);
    const dropper = startDropper(port, 2);
    try {
      const creds = { [dropper.host]: { username: "x", password: registry.password } };
      const pool = new RegistryPool(creds, { backoffMs: 5 });
      const image = await buildImage({
        projectDir: project,
        base: `${dropper.host}/oven/bun:${Bun.version}-slim`,
        pool,
      });
      const pushed = await pushImage(image, { registry: dropper.host, repository: "dropped", tag: "t", pool });
      expect(dropper.dropped()).toBe(2);
      expect(pushed.digest).toBe(image.manifestDigest);
    } finally {
      await dropper.close();
    }
  });

  test("an unreachable registry gives registry_network after retries", async () => {
    const port = await freePort();
    const pool = new RegistryPool({}, { backoffMs: 5, retries: 2 });
    const err = await buildImage({ projectDir: project, base: `127.0.0.1:${port}/oven/bun:1`, pool }).catch((e) => e);
    expect(err).toBeInstanceOf(ImageError);
    expect(err.code).toBe("registry_network");
    expect(err.message).toContain(`127.0.0.1:${port}`);
  });
});
