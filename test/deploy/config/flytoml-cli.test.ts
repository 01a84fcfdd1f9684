// fly.toml files people already have, through the CLI against the fake Fly API: warnings that do not stop a
// deploy (and --strict that does), Docker/buildpack builds that need --image, and apps without primary_region.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { main } from "../../../deploy/run.ts";
import { isAnchor } from "../../../deploy/fleet/lock.ts";
import { imageCommand } from "../../../deploy/image/cli.ts";
import { startFakeFly, type FakeFly } from "../../fakes/fly-machines.ts";
import { captureIo, IMAGE_V1, IMAGE_V2 } from "../harness.ts";

let fly: FakeFly;
beforeAll(() => {
  fly = startFakeFly();
});
afterAll(() => fly.close());

/** The app's machines, without the fleet lock's anchor (deploy/fleet/lock.ts), which is no part of the fleet. */
function appMachines(app: string) {
  return fly.machines(app).filter((m) => !isAnchor(m));
}

function write(toml: string): string {
  const dir = mkdtempSync(join(tmpdir(), "flightdeck-flytoml-"));
  const path = join(dir, "fly.toml");
  writeFileSync(path, toml);
  return path;
}

async function run(argv: string[]) {
  const cap = captureIo({ FLY_API_TOKEN: fly.token, FLY_FLAPS_BASE_URL: fly.url });
  const code = await main(argv, cap);
  return { code, out: cap.out.join(""), err: cap.err.join("") };
}

const WEB = `[http_service]\n  internal_port = 8080\n  force_https = true\n[deploy]\n  wait_timeout = "3s"\n`;

describe("unknown keys warn; --strict refuses", () => {
  test("a deploy goes on with the warning printed; --strict exits 2 before any call", async () => {
    const path = write(
      `app = "warned"\nprimary_region = "ewr"\nswap_size_mb = 512\nauto_rollback = true\n${WEB}  release_comand = "x"\n`,
    );
    let r = await run(["deploy", "--config", path, "--image", IMAGE_V1, "--json"]);
    expect(r.code).toBe(0);
    expect(r.err).toContain("auto_rollback: unknown key, ignored");
    expect(r.err).toContain('deploy.release_comand: unknown key, ignored; did you mean "release_command"?');
    expect(JSON.parse(r.out).machines.length).toBeGreaterThan(0);
    // swap_size_mb reached the machines.
    expect(appMachines("warned").every((m) => m.config.init?.swap_size_mb === 512)).toBe(true);

    const before = fly.calls.length;
    r = await run(["deploy", "--config", path, "--image", IMAGE_V2, "--strict"]);
    expect(r.code).toBe(2);
    expect(r.err).toContain(
      'release_comand: unknown key, ignored; did you mean "release_command"? (an error under --strict)',
    );
    expect(fly.calls.length).toBe(before);
    r = await run(["plan", "--config", path, "--image", IMAGE_V2, "--strict"]);
    expect(r.code).toBe(2);
  });

  test("a file without app is read but no command runs on it", async () => {
    const r = await run(["plan", "--config", write(`primary_region = "ewr"\n${WEB}`)]);
    expect(r.code).toBe(2);
    expect(r.err).toContain('has no app name: add app = "<name>"');
  });
});

describe("[build] that needs Docker or buildpacks", () => {
  const dockerBuilt = `app = "dockerbuilt"\nprimary_region = "ewr"\n[build]\n  dockerfile = "Dockerfile.prod"\n  [build.args]\n    NODE_ENV = "production"\n${WEB}`;

  test("deploy without --image says how the app is built and how to pass the image; nothing changes", async () => {
    const before = fly.calls.length;
    const r = await run(["deploy", "--config", write(dockerBuilt)]);
    expect(r.code).toBe(2);
    expect(r.err).toContain(
      'dockerbuilt is built with Docker ([build] dockerfile = "Dockerfile.prod", args (NODE_ENV))',
    );
    expect(r.err).toContain("--image registry.fly.io/dockerbuilt:v1");
    expect(fly.calls.length).toBe(before);
  });

  test("plan without --image refuses the same way; with --image both work", async () => {
    const path = write(dockerBuilt);
    let r = await run(["plan", "--config", path]);
    expect(r.code).toBe(2);
    expect(r.err).toContain("which needs Docker or a buildpack builder");
    r = await run(["deploy", "--config", path, "--image", IMAGE_V1, "--json"]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out).image).toBe(IMAGE_V1);
  });

  test("image build refuses a buildpack app clearly (exit 2)", async () => {
    const path = write(
      `app = "packed"\n[build]\n  builder = "paketobuildpacks/builder:base"\n  buildpacks = ["gcr.io/paketo-buildpacks/nodejs"]\n`,
    );
    const cap = captureIo({});
    const code = await imageCommand(["build", "--config", path], { ...cap, cwd: "/" });
    expect(code).toBe(2);
    expect(cap.err.join("")).toContain(
      'says this app is built with buildpacks ([build] builder = "paketobuildpacks/builder:base")',
    );
    expect(cap.err.join("")).toContain("deploy --image REF");
  });
});

describe("no primary_region", () => {
  const regionless = `app = "regionless"\n${WEB}`;

  test("a first deploy asks for --region (exit 2, nothing changed); with it, machines go there", async () => {
    const path = write(regionless);
    const before = fly.calls.filter((c) => c.method !== "GET").length;
    let r = await run(["deploy", "--config", path, "--image", IMAGE_V1]);
    expect(r.code).toBe(2);
    expect(r.err).toContain("pass --region (e.g. --region ewr)");
    expect(fly.calls.filter((c) => c.method !== "GET").length).toBe(before);

    r = await run(["deploy", "--config", path, "--image", IMAGE_V1, "--region", "Amsterdam"]);
    expect(r.code).toBe(2);
    expect(r.err).toContain(`--region "Amsterdam" is not a Fly region`);
    r = await run(["deploy", "--config", path, "--image", IMAGE_V1, "--region", "ams", "--json"]);
    expect(r.code).toBe(0);
    const machines = JSON.parse(r.out).machines as { region: string }[];
    expect(machines.length).toBeGreaterThan(0);
    expect(new Set(machines.map((m) => m.region))).toEqual(new Set(["ams"]));
    // flyctl sets PRIMARY_REGION only when fly.toml has one.
    expect(appMachines("regionless").every((m) => m.config.env?.PRIMARY_REGION === undefined)).toBe(true);
  });

  test("an existing app keeps its machines' regions: a redeploy without --region updates them in place", async () => {
    const path = write(regionless);
    const ids = appMachines("regionless")
      .map((m) => m.id)
      .sort();
    const r = await run(["deploy", "--config", path, "--image", IMAGE_V2, "--json"]);
    expect(r.code).toBe(0);
    const after = JSON.parse(r.out).machines as { id: string; region: string; image: string }[];
    expect(after.map((m) => m.id).sort()).toEqual(ids);
    expect(after.every((m) => m.region === "ams" && m.image === IMAGE_V2)).toBe(true);
  });
});
