// Pull-request previews end to end against the fake Fly API and the fake GitHub API, with the project's real
// fly.toml and fly.preview.toml: the PR lifecycle (opened, synchronize, closed, closed again), the safety
// rules that keep `down` away from production, `prune --closed`, and the preview's scale-to-zero config.

import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createFlyClient } from "../../../lib/fly/client.ts";
import { loadDeployConfig } from "../../../deploy/config/flytoml.ts";
import { buildMachineConfig } from "../../../deploy/machine/machine-config.ts";
import { previewCommand, type PreviewDeps } from "../../../deploy/preview/preview.ts";
import { stickyMarker } from "../../../deploy/github/github.ts";
import { startFakeFly, type FakeFly } from "../../fakes/fly-machines.ts";
import { startFakeGitHub, type FakeGitHub } from "../../fakes/github.ts";
import { main } from "../../../deploy/run.ts";
import { captureIo } from "../harness.ts";

const ROOT = join(import.meta.dir, "..", "..", "..");
const BASE = "flightdeck";
const IMAGE_V1 = "registry.fly.io/flightdeck-pr-42:deployment-v1";
const IMAGE_V2 = "registry.fly.io/flightdeck-pr-42:deployment-v2";

let fly: FakeFly;
let gh: FakeGitHub;
let dir: string;

beforeEach(async () => {
  fly = startFakeFly();
  gh = startFakeGitHub();
  dir = await mkdtemp(join(tmpdir(), "preview-"));
});
afterEach(async () => {
  await fly.close();
  gh.close();
  await rm(dir, { recursive: true, force: true });
});

const deps = (): Partial<PreviewDeps> => ({
  cwd: ROOT,
  createClient: () =>
    createFlyClient({
      baseUrl: fly.url,
      token: fly.token,
      retry: { baseDelayMs: 2, maxDelayMs: 10, rateLimitDelayMs: 10 },
      deadlineMs: 10_000,
      timeoutMs: 5_000,
    }),
  buildImage: async () => {
    throw new Error("tests pass --image");
  },
  github: { backoffMs: 1 },
  pollMs: 5,
  waitForLockMs: 200,
  appSettleMs: 2_000,
});

function env(extra: Record<string, string> = {}): Record<string, string> {
  return {
    FLY_API_TOKEN: fly.token,
    ...gh.env,
    GITHUB_ACTIONS: "true",
    GITHUB_OUTPUT: join(dir, "output"),
    GITHUB_STEP_SUMMARY: join(dir, "summary"),
    ...extra,
  };
}

async function run(
  argv: string[],
  e: Record<string, string | undefined> = env(),
  extraDeps: Partial<PreviewDeps> = {},
) {
  const io = captureIo(e);
  const code = await previewCommand(argv, io, { ...deps(), ...extraDeps });
  const stdout = io.out.join("");
  const stderr = io.err.join("");
  // The token never leaves in anything we print (the add-mask line is the runner's instruction, on stderr).
  expect(stdout).not.toContain(fly.token);
  expect(stderr.replace(`::add-mask::${fly.token}`, "")).not.toContain(fly.token);
  expect(stdout + stderr).not.toContain(gh.token);
  return {
    code,
    stdout,
    stderr,
    json: stdout.trim() ? (JSON.parse(stdout.trim()) as Record<string, unknown>) : undefined,
  };
}

/** The preview's app machines (not the fleet lock's anchor, which is the lock, not the fleet). */
const liveMachines = (app: string) =>
  fly
    .machines(app)
    .filter(
      (m) => m.state !== "destroyed" && m.state !== "destroying" && m.config.metadata?.flightdeck_role !== "fleet-lock",
    );

/** A production app as a deploy leaves it: machines with volumes mounted and no preview marker. */
function seedProduction() {
  const app = fly.seedApp(BASE);
  return app;
}

async function seedProductionMachine() {
  const client = deps().createClient!({});
  await client.createMachine(BASE, {
    region: "ewr",
    config: {
      image: "registry.fly.io/flightdeck:prod",
      metadata: { fly_platform_version: "v2", fly_process_group: "app" },
    },
  });
}

describe("PR lifecycle", () => {
  test("opened -> up, synchronize -> up, closed -> down, closed again -> no-op", async () => {
    seedProduction();
    await seedProductionMachine();

    // opened
    const opened = await run(["preview", "up", "--pr", "42", "--image", IMAGE_V1, "--json"]);
    expect(opened.stderr).toContain("preview ready");
    expect(opened.code).toBe(0);
    expect(opened.json).toMatchObject({
      app: "flightdeck-pr-42",
      url: "https://flightdeck-pr-42.fly.dev",
      pr: 42,
      created: true,
      image: IMAGE_V1,
    });
    const app = fly.state.apps.get("flightdeck-pr-42")!;
    expect(app.network).toBe("flightdeck-pr-42"); // its own 6PN network
    const [machine] = liveMachines("flightdeck-pr-42");
    expect(liveMachines("flightdeck-pr-42")).toHaveLength(1);
    expect(machine!.state).toBe("started");
    expect(machine!.config.image).toBe(IMAGE_V1);
    expect(machine!.config.metadata?.flightdeck_preview).toBe("flightdeck#42");
    expect(machine!.config.metadata?.flightdeck_preview_repository).toBe(gh.repository);
    expect(machine!.config.env?.APP_ENV).toBe("preview");
    expect(machine!.config.env?.DATABASE_URL).toStartWith("sqlite:");
    expect([...app.secrets.keys()]).toEqual(["SECRET_KEY"]);
    const secretKey = app.secrets.get("SECRET_KEY")!.value;
    expect(secretKey.length).toBeGreaterThanOrEqual(32);
    expect(opened.stderr).toContain(`::add-mask::${secretKey}`);
    expect(opened.stdout).not.toContain(secretKey);
    expect(app.ips.length).toBeGreaterThanOrEqual(1);
    let comments = gh.commentsOn(42);
    expect(comments).toHaveLength(1);
    expect(comments[0]!.body.startsWith(stickyMarker(42))).toBe(true);
    expect(comments[0]!.body).toContain("https://flightdeck-pr-42.fly.dev");
    expect(comments[0]!.body).toContain(IMAGE_V1);
    expect(comments[0]!.body).toContain("| Status | ready |");
    const commentId = comments[0]!.id;
    expect(await readFile(join(dir, "output"), "utf8")).toBe(
      "url=https://flightdeck-pr-42.fly.dev\napp=flightdeck-pr-42\n",
    );
    expect(await readFile(join(dir, "summary"), "utf8")).toContain("Preview for #42: https://flightdeck-pr-42.fly.dev");

    // synchronize: a new image, same app, same machine, same comment
    fly.calls.length = 0;
    const sync = await run(["up", "--pr", "42", "--image", IMAGE_V2, "--json"], env({ GITHUB_SHA: "a".repeat(40) }));
    expect(sync.code).toBe(0);
    expect(sync.json).toMatchObject({ app: "flightdeck-pr-42", created: false, changed: true, image: IMAGE_V2 });
    const after = liveMachines("flightdeck-pr-42");
    expect(after.map((m) => m.id)).toEqual([machine!.id]);
    expect(after[0]!.config.image).toBe(IMAGE_V2);
    expect(after[0]!.config.metadata?.flightdeck_preview).toBe("flightdeck#42");
    expect(fly.calls.some((c) => c.method === "POST" && c.path === "/v1/apps")).toBe(false);
    expect(fly.calls.some((c) => c.method === "POST" && c.path.includes("/secrets"))).toBe(false);
    expect(app.secrets.get("SECRET_KEY")!.value).toBe(secretKey);
    comments = gh.commentsOn(42);
    expect(comments.map((c) => c.id)).toEqual([commentId]);
    expect(comments[0]!.body).toContain(IMAGE_V2);
    expect(comments[0]!.body).toContain("`aaaaaaaaaaaa`");

    // closed
    const closed = await run(["down", "--pr", "42", "--json"]);
    expect(closed.code).toBe(0);
    expect(closed.json).toMatchObject({ app: "flightdeck-pr-42", existed: true, machines: [machine!.id] });
    expect(fly.state.apps.has("flightdeck-pr-42")).toBe(false);
    expect(fly.state.apps.has(BASE)).toBe(true);
    expect(liveMachines(BASE)).toHaveLength(1);
    comments = gh.commentsOn(42);
    expect(comments.map((c) => c.id)).toEqual([commentId]);
    expect(comments[0]!.body).toContain("Preview removed");
    expect(comments[0]!.body).not.toContain("https://flightdeck-pr-42.fly.dev |");

    // closed again: nothing to do, nothing written
    fly.calls.length = 0;
    gh.calls.length = 0;
    const again = await run(["down", "--pr", "42", "--json"]);
    expect(again.code).toBe(0);
    expect(again.json).toMatchObject({ existed: false });
    expect(fly.mutatingCalls()).toHaveLength(0);
    expect(gh.calls.filter((c) => c.method !== "GET")).toHaveLength(0);
  });

  test("down whose app Fly keeps (the delete accepted, the app still there): exit 1 app_not_deleted, no 'removed' comment; the re-run finishes", async () => {
    expect((await run(["up", "--pr", "43", "--image", IMAGE_V1])).code).toBe(0);
    fly.faults.lingerAfterDelete({ app: "flightdeck-pr-43" });

    const down = await run(["down", "--pr", "43", "--json"], env(), { appSettleMs: 200 });

    expect(down.code).toBe(1);
    expect(down.json).toMatchObject({ error: { code: "app_not_deleted" } });
    expect(down.stderr).toContain("Fly accepted the delete of flightdeck-pr-43, but the app still exists 200ms later");
    expect(down.stderr).toContain("bun deploy/run.ts preview down --pr 43");
    expect(gh.commentsOn(43).some((c) => c.body.includes("Preview removed"))).toBe(false);

    fly.faults.clear();
    const again = await run(["down", "--pr", "43", "--json"]);
    expect(again.code).toBe(0);
    expect(fly.state.apps.has("flightdeck-pr-43")).toBe(false);
    expect(gh.commentsOn(43).some((c) => c.body.includes("Preview removed"))).toBe(true);
  });

  test("reopened after closed: a fresh app, the same comment back to ready, the head sha from the event", async () => {
    expect((await run(["up", "--pr", "6", "--image", IMAGE_V1])).code).toBe(0);
    const firstKey = fly.state.apps.get("flightdeck-pr-6")!.secrets.get("SECRET_KEY")!.value;
    expect((await run(["down", "--pr", "6"])).code).toBe(0);
    const eventPath = join(dir, "event.json");
    await Bun.write(
      eventPath,
      JSON.stringify({ action: "reopened", pull_request: { number: 6, head: { sha: "b".repeat(40) } } }),
    );
    const reopened = await run(
      ["up", "--pr", "6", "--image", IMAGE_V2, "--json"],
      env({ GITHUB_EVENT_PATH: eventPath, GITHUB_SHA: "c".repeat(40) }),
    );
    expect(reopened.code).toBe(0);
    expect(reopened.json).toMatchObject({ created: true });
    expect(fly.state.apps.get("flightdeck-pr-6")!.secrets.get("SECRET_KEY")!.value).not.toBe(firstKey);
    const comments = gh.commentsOn(6);
    expect(comments).toHaveLength(1);
    expect(comments[0]!.body).toContain("Preview ready");
    expect(comments[0]!.body).toContain("`bbbbbbbbbbbb`");
  });

  test("an up with nothing new changes nothing on Fly and leaves the comment as it is", async () => {
    expect((await run(["up", "--pr", "5", "--image", IMAGE_V1])).code).toBe(0);
    fly.calls.length = 0;
    gh.calls.length = 0;
    const again = await run(["up", "--pr", "5", "--image", IMAGE_V1, "--json"]);
    expect(again.code).toBe(0);
    expect(again.json).toMatchObject({ changed: false });
    // `preview up` holds the fleet lock over its secret, deploy and readiness wait; taking and giving back
    // those leases are its only writes.
    expect(fly.mutatingCalls().filter((c) => !c.path.endsWith("/lease"))).toHaveLength(0);
    expect(liveMachines("flightdeck-pr-5").every((m) => m.lease === undefined)).toBe(true);
    expect(gh.calls.filter((c) => c.method !== "GET")).toHaveLength(0);
  });

  test("without GitHub variables the preview still deploys (laptop run), with no comment", async () => {
    const e = { FLY_API_TOKEN: fly.token };
    const result = await run(["up", "--pr", "9", "--image", IMAGE_V1, "--json"], e);
    expect(result.code).toBe(0);
    expect(result.json).toMatchObject({ url: "https://flightdeck-pr-9.fly.dev", comment: null });
    expect(gh.calls).toHaveLength(0);
    expect(result.stderr).not.toContain("::add-mask::"); // not under Actions
  });

  test("a comment that cannot be written (fork token) is a warning; the preview is still up", async () => {
    const ro = startFakeGitHub({ readOnly: true });
    try {
      const result = await run(["up", "--pr", "3", "--image", IMAGE_V1], env({ ...ro.env }));
      expect(result.code).toBe(0);
      expect(result.stderr).toContain("::warning::could not write the preview comment on PR #3");
      expect(liveMachines("flightdeck-pr-3")).toHaveLength(1);
    } finally {
      ro.close();
    }
  });

  test("a failed deploy exits 1 and says so on the PR", async () => {
    fly.faults.failStart(() => true);
    const result = await run(["up", "--pr", "11", "--image", IMAGE_V1]);
    expect(result.code).toBe(1);
    const [comment] = gh.commentsOn(11);
    expect(comment?.body).toContain("Preview deploy failed");
    expect(comment?.body).toContain("| Status | failed |");
    expect(await readFile(join(dir, "summary"), "utf8")).toContain("Preview for #11 failed");
    const json = await run(["up", "--pr", "11", "--image", IMAGE_V1, "--json"]);
    expect(json.json).toMatchObject({ error: { exitCode: 1 } });
  });

  test("no FLY_API_TOKEN: exit 2, nothing called", async () => {
    const result = await run(["up", "--pr", "1", "--image", IMAGE_V1], { ...gh.env });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("FLY_API_TOKEN");
    expect(fly.calls).toHaveLength(0);
    expect(gh.calls).toHaveLength(0);
  });
});

describe('GitHub deployments (the PR\'s "View deployment")', () => {
  const SHA1 = "a".repeat(40);
  const SHA2 = "b".repeat(40);
  const runEnv = (sha: string) =>
    env({ GITHUB_SHA: sha, GITHUB_SERVER_URL: "https://github.com", GITHUB_RUN_ID: "77" });

  test("up records a transient pr-N deployment of the head commit with success and the preview URL; a rerun writes nothing; a new commit supersedes; down retires it", async () => {
    // CI checks still running on the commit: GitHub would refuse a deployment that does not waive them.
    gh.state.pendingChecks.add(SHA1);
    const up = await run(["up", "--pr", "42", "--image", IMAGE_V1, "--json"], runEnv(SHA1));
    expect(up.code).toBe(0);
    const [first] = gh.deploymentsIn("pr-42");
    expect(first).toMatchObject({ ref: SHA1, sha: SHA1, transient_environment: true, production_environment: false });
    expect(first!.statuses.map((st) => [st.state, st.environment_url, st.log_url])).toEqual([
      ["success", "https://flightdeck-pr-42.fly.dev", "https://github.com/acme/flightdeck/actions/runs/77"],
    ]);
    expect(up.json).toMatchObject({
      deployment: { id: first!.id, environment: "pr-42", state: "success", unchanged: false },
    });

    gh.calls.length = 0;
    const again = await run(["up", "--pr", "42", "--image", IMAGE_V1, "--json"], runEnv(SHA1));
    expect(again.json).toMatchObject({ deployment: { id: first!.id, unchanged: true } });
    expect(gh.calls.filter((c) => c.method !== "GET")).toHaveLength(0);

    const sync = await run(["up", "--pr", "42", "--image", IMAGE_V2, "--json"], runEnv(SHA2));
    expect(sync.code).toBe(0);
    const [older, newer] = gh.deploymentsIn("pr-42");
    expect([gh.deploymentState(older!), newer!.ref, gh.deploymentState(newer!)]).toEqual(["inactive", SHA2, "success"]);
    expect(sync.json).toMatchObject({ deployment: { superseded: [older!.id] } });

    const down = await run(["down", "--pr", "42", "--json"], runEnv(SHA2));
    expect(down.code).toBe(0);
    expect(down.json).toMatchObject({ deploymentsDeactivated: [newer!.id] });
    expect(gh.deploymentsIn("pr-42").map((d) => gh.deploymentState(d))).toEqual(["inactive", "inactive"]);
    expect(gh.state.deployments.every((d) => d.environment === "pr-42")).toBe(true);
  });

  test("without a sha in the event the PR's head comes from GitHub; a failed deploy is a failure status with no URL", async () => {
    gh.setPull(7, "open", { head: { sha: SHA2 } });
    expect((await run(["up", "--pr", "7", "--image", IMAGE_V1])).code).toBe(0);
    expect(gh.deploymentsIn("pr-7").map((d) => [d.ref, gh.deploymentState(d)])).toEqual([[SHA2, "success"]]);

    fly.faults.failStart(() => true);
    expect((await run(["up", "--pr", "8", "--image", IMAGE_V1], runEnv(SHA1))).code).toBe(1);
    const [failed] = gh.deploymentsIn("pr-8");
    expect(failed!.statuses.map((st) => [st.state, st.environment_url])).toEqual([["failure", ""]]);
    expect(failed!.statuses[0]!.description.length).toBeLessThanOrEqual(140);
  });

  test("GitHub refusing or failing never fails the preview: a warning naming the permission", async () => {
    const ro = startFakeGitHub({ readOnly: true });
    try {
      const result = await run(["up", "--pr", "3", "--image", IMAGE_V1], env({ ...ro.env, GITHUB_SHA: SHA1 }));
      expect(result.code).toBe(0);
      expect(result.stderr).toContain("could not record the GitHub deployment for PR #3");
      expect(result.stderr).toContain("deployments: write");
    } finally {
      ro.close();
    }
    gh.faults.push({ method: "POST", path: "/deployments", status: 500, times: 5 });
    const flaky = await run(["up", "--pr", "4", "--image", IMAGE_V1, "--json"], runEnv(SHA1));
    expect(flaky.code).toBe(0);
    expect(flaky.json).toMatchObject({ deployment: null, url: "https://flightdeck-pr-4.fly.dev" });
    expect(liveMachines("flightdeck-pr-4")).toHaveLength(1);
  });

  test("prune --closed retires the closed PR's deployments and leaves the open one's", async () => {
    for (const pr of [1, 2])
      expect((await run(["up", "--pr", String(pr), "--image", IMAGE_V1], runEnv(SHA1))).code).toBe(0);
    gh.setPull(1, "closed");
    gh.setPull(2, "open");
    expect((await run(["prune", "--closed"])).code).toBe(0);
    expect(gh.deploymentsIn("pr-1").map((d) => gh.deploymentState(d))).toEqual(["inactive"]);
    expect(gh.deploymentsIn("pr-2").map((d) => gh.deploymentState(d))).toEqual(["success"]);
  });
});

describe("through the CLI entry (bun deploy/run.ts preview ...)", () => {
  test("run.ts delegates up and down with the process environment's defaults", async () => {
    const e = { FLY_API_TOKEN: fly.token, FLY_FLAPS_BASE_URL: fly.url, ...gh.env };
    const io = captureIo(e);
    expect(await main(["preview", "up", "--pr", "8", "--image", IMAGE_V1, "--json"], io)).toBe(0);
    const up = JSON.parse(io.out.join("").trim()) as { url: string; app: string };
    expect(up).toMatchObject({ app: "flightdeck-pr-8", url: "https://flightdeck-pr-8.fly.dev" });
    expect(liveMachines("flightdeck-pr-8")).toHaveLength(1);
    expect(gh.commentsOn(8)).toHaveLength(1);

    const down = captureIo(e);
    expect(await main(["preview", "down", "--pr", "8"], down)).toBe(0);
    expect(fly.state.apps.has("flightdeck-pr-8")).toBe(false);
    expect(gh.commentsOn(8)[0]!.body).toContain("Preview removed");

    const bad = captureIo(e);
    expect(await main(["preview", "down", "--pr", "0"], bad)).toBe(2);
  });
});

describe("safety: down never touches anything but this PR's preview", () => {
  const badPrs = [
    "0",
    "-1",
    "-42",
    "00",
    "042",
    "1.5",
    "1e3",
    "0x10",
    "42abc",
    "4294967296",
    "2147483648",
    "99999999999",
    "",
    " ",
    "flightdeck",
    "../flightdeck",
    "42;rm -rf /",
    "42 --yes",
    "NaN",
    "Infinity",
    "٤٢",
  ];

  test.each(badPrs)("--pr %p is refused with exit 2 before any call", async (pr) => {
    seedProduction();
    await seedProductionMachine();
    fly.calls.length = 0;
    const result = await run(["down", "--pr", pr]);
    expect(result.code).toBe(2);
    expect(fly.calls).toHaveLength(0);
    expect(fly.state.apps.has(BASE)).toBe(true);
    const eq = await run(["down", `--pr=${pr}`]);
    expect(eq.code).toBe(2);
    expect(fly.calls).toHaveLength(0);
  });

  test("down cannot be pointed at an app by name: extra words and unknown flags are usage errors", async () => {
    seedProduction();
    for (const argv of [
      ["down", "--pr", "1", "--app", BASE],
      ["down", "--pr", "1", BASE],
      ["down", "--app", BASE],
      ["down", "--pr", "1", "--config", "fly.toml"],
      ["down", "--pr", "1", "--image", "x"],
      ["destroy", "--pr", "1"],
      [],
    ]) {
      const result = await run(argv);
      expect(result.code).toBe(2);
    }
    expect(fly.calls).toHaveLength(0);
    expect(fly.state.apps.has(BASE)).toBe(true);
  });

  test("a preview-named app without the preview network is refused (exit 2), nothing destroyed", async () => {
    fly.seedApp("flightdeck-pr-7"); // default network: not created as a preview
    const result = await run(["down", "--pr", "7"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("not in the preview network");
    expect(fly.state.apps.has("flightdeck-pr-7")).toBe(true);
    expect(fly.mutatingCalls()).toHaveLength(0);
  });

  test("a machine without the marker, with another PR's marker, or with a volume: refused", async () => {
    const client = deps().createClient!({});
    for (const [pr, metadata, mounts] of [
      [7, { fly_platform_version: "v2" }, undefined],
      [8, { flightdeck_preview: "flightdeck#9" }, undefined],
      [10, { flightdeck_preview: "other-app#10" }, undefined],
      [12, { flightdeck_preview: "flightdeck#12" }, true],
    ] as const) {
      const name = `flightdeck-pr-${pr}`;
      await client.createApp({ name, org_slug: "personal", network: name });
      let volume: string | undefined;
      if (mounts) volume = (await client.createVolume(name, { name: "media", region: "ewr", size_gb: 1 })).id;
      await client.createMachine(name, {
        region: "ewr",
        config: {
          image: "x",
          metadata: { ...metadata },
          ...(volume ? { mounts: [{ volume, path: "/app/media" }] } : {}),
        },
      });
      fly.calls.length = 0;
      const result = await run(["down", "--pr", String(pr)]);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain("refusing to destroy");
      expect(fly.mutatingCalls()).toHaveLength(0);
      expect(liveMachines(name)).toHaveLength(1);
    }
  });

  test("one good machine does not vouch for a bad one", async () => {
    const client = deps().createClient!({});
    const name = "flightdeck-pr-13";
    await client.createApp({ name, org_slug: "personal", network: name });
    await client.createMachine(name, {
      region: "ewr",
      config: { image: "x", metadata: { flightdeck_preview: "flightdeck#13" } },
    });
    await client.createMachine(name, { region: "ewr", config: { image: "x", metadata: {} } });
    const result = await run(["down", "--pr", "13"]);
    expect(result.code).toBe(2);
    expect(liveMachines(name)).toHaveLength(2);
  });

  test("up refuses to deploy over an app it did not create, and over one with a DATABASE_URL secret", async () => {
    fly.seedApp("flightdeck-pr-20");
    const foreign = await run(["up", "--pr", "20", "--image", IMAGE_V1]);
    expect(foreign.code).toBe(2);
    expect(foreign.stderr).toContain("refusing to deploy over flightdeck-pr-20");

    expect((await run(["up", "--pr", "21", "--image", IMAGE_V1])).code).toBe(0);
    const client = deps().createClient!({});
    await client.setSecrets("flightdeck-pr-21", { DATABASE_URL: "postgres://prod:pw@flightdeck-db.internal/prod" });
    fly.calls.length = 0;
    const withDb = await run(["up", "--pr", "21", "--image", IMAGE_V2]);
    expect(withDb.code).toBe(2);
    expect(withDb.stderr).toContain("DATABASE_URL");
    expect(fly.mutatingCalls()).toHaveLength(0);
  });

  test("a fly.toml whose app looks like a preview still cannot make down hit it", async () => {
    // Even if someone names production like a preview, the preview of PR 7 is `<that>-pr-7`, never itself.
    const prodDir = await mkdtemp(join(tmpdir(), "preview-cfg-"));
    try {
      const toml = (await Bun.file(join(ROOT, "fly.toml")).text()).replace(/^app = ".*"$/m, 'app = "flightdeck-pr-7"');
      await Bun.write(join(prodDir, "fly.toml"), toml);
      await Bun.write(join(prodDir, "fly.preview.toml"), Bun.file(join(ROOT, "fly.preview.toml")));
      const client = deps().createClient!({});
      await client.createApp({ name: "flightdeck-pr-7", org_slug: "personal", network: "flightdeck-pr-7" });
      await client.createMachine("flightdeck-pr-7", {
        region: "ewr",
        config: { image: "x", metadata: { flightdeck_preview: "flightdeck#7" } },
      });
      fly.calls.length = 0;
      const result = await run(["down", "--pr", "7", "--json"], env(), { cwd: prodDir });
      expect(result.code).toBe(0);
      expect(result.json).toMatchObject({ app: "flightdeck-pr-7-pr-7", existed: false });
      expect(fly.state.apps.has("flightdeck-pr-7")).toBe(true);
      expect(fly.mutatingCalls()).toHaveLength(0);
    } finally {
      await rm(prodDir, { recursive: true, force: true });
    }
  });

  test("a 403 (name owned by someone else) is refused, not treated as gone or as ours", async () => {
    fly.faults.serverError(1, { status: 403, match: { method: "GET", path: "/v1/apps/flightdeck-pr-30" } });
    const result = await run(["down", "--pr", "30"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("another organization");
  });
});

describe("prune --closed", () => {
  test("destroys previews of closed PRs only; keeps open, unknown and non-preview apps", async () => {
    seedProduction();
    await seedProductionMachine();
    for (const pr of [1, 2, 3]) expect((await run(["up", "--pr", String(pr), "--image", IMAGE_V1])).code).toBe(0);
    fly.seedApp("flightdeck-pr-4"); // named like a preview, not one
    fly.seedApp("otherapp-pr-1"); // another app's preview: not ours to judge
    gh.setPull(1, "closed", { merged: true });
    gh.setPull(2, "open");
    gh.setPull(4, "closed");
    // PR 3 unknown to GitHub (e.g. deleted repository history): kept

    const result = await run(["prune", "--closed", "--json"]);
    expect(result.code).toBe(0);
    const json = result.json as { removed: { app: string }[]; kept: { app: string; why: string }[]; failed: unknown[] };
    expect(json.removed.map((r) => r.app)).toEqual(["flightdeck-pr-1"]);
    expect(json.kept.map((k) => k.app).sort()).toEqual(["flightdeck-pr-2", "flightdeck-pr-3", "flightdeck-pr-4"]);
    expect(json.kept.find((k) => k.app === "flightdeck-pr-4")?.why).toContain("not in the preview network");
    expect(fly.state.apps.has("flightdeck-pr-1")).toBe(false);
    for (const name of [BASE, "flightdeck-pr-2", "flightdeck-pr-3", "flightdeck-pr-4", "otherapp-pr-1"])
      expect(fly.state.apps.has(name)).toBe(true);
    expect(gh.commentsOn(1)[0]!.body).toContain("Preview removed");
  });

  test("needs GITHUB_TOKEN: exit 2 without it", async () => {
    const result = await run(["prune", "--closed"], { FLY_API_TOKEN: fly.token });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("GITHUB_TOKEN");
    expect(fly.calls).toHaveLength(0);
  });

  test("prune without --closed is a usage error", async () => {
    expect((await run(["prune"])).code).toBe(2);
  });
});

describe("the preview fleet shape", () => {
  test("fly.preview.toml scales to zero: one 256 MB shared-cpu machine, autostop suspend, min 0, no mounts, /health check", async () => {
    const parsed = await loadDeployConfig(join(ROOT, "fly.preview.toml"));
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
    const cfg = { ...parsed.config, app: "flightdeck-pr-1" };
    expect(cfg.mounts).toEqual([]);
    const config = buildMachineConfig(cfg, { image: IMAGE_V1, releaseVersion: 1 });
    expect(config.mounts ?? []).toEqual([]);
    expect(config.guest).toMatchObject({ cpu_kind: "shared", cpus: 1, memory_mb: 256 });
    const service = config.services?.[0];
    expect(service?.autostop).toBe("suspend");
    expect(service?.autostart).toBe(true);
    expect(service?.min_machines_running).toBe(0);
    expect(service?.ports?.find((p) => p.port === 80)?.force_https).toBe(true);
    expect(service?.checks?.some((c) => c.path === "/health" && c.method === "GET")).toBe(true);
    expect(config.env?.APP_ENV).toBe("preview");
    expect(config.env?.DATABASE_URL).toStartWith("sqlite:");
    expect(parsed.config.primaryRegion).toBe(
      await loadDeployConfig(join(ROOT, "fly.toml")).then((p) => (p.ok ? p.config.primaryRegion : "?")),
    );
  });

  test("a preview the proxy scaled to zero is updated and stays stopped; the next request starts it", async () => {
    expect((await run(["up", "--pr", "78", "--image", IMAGE_V1])).code).toBe(0);
    const [machine] = liveMachines("flightdeck-pr-78");
    const client = deps().createClient!({});
    await client.stopMachine("flightdeck-pr-78", machine!.id);
    await client.waitForMachineState("flightdeck-pr-78", machine!.id, { state: "stopped", timeoutMs: 2_000 });
    const sync = await run(["up", "--pr", "78", "--image", IMAGE_V2, "--json"]);
    expect(sync.code).toBe(0);
    const [after] = liveMachines("flightdeck-pr-78");
    expect(after!.config.image).toBe(IMAGE_V2);
    expect(after!.state).toBe("stopped");
  });

  test("a preview the proxy suspended is updated, started once to test it, and suspended again", async () => {
    expect((await run(["up", "--pr", "79", "--image", IMAGE_V1])).code).toBe(0);
    const [machine] = liveMachines("flightdeck-pr-79");
    const client = deps().createClient!({});
    await client.suspendMachine("flightdeck-pr-79", machine!.id);
    await client.waitForMachineState("flightdeck-pr-79", machine!.id, { state: "suspended", timeoutMs: 2_000 });
    expect((await run(["up", "--pr", "79", "--image", IMAGE_V2, "--json"])).code).toBe(0);
    const [after] = liveMachines("flightdeck-pr-79");
    expect(after!.config.image).toBe(IMAGE_V2);
    expect(after!.state).toBe("suspended");
    expect(fly.calls.filter((c) => c.path.endsWith(`/machines/${after!.id}/start`))).toHaveLength(1);
  });

  test("the machine a preview actually gets is that shape", async () => {
    expect((await run(["up", "--pr", "77", "--image", IMAGE_V1])).code).toBe(0);
    const [machine] = liveMachines("flightdeck-pr-77");
    expect(machine!.config.guest).toMatchObject({ cpu_kind: "shared", cpus: 1, memory_mb: 256 });
    expect(machine!.config.services?.[0]?.min_machines_running).toBe(0);
    expect(machine!.config.services?.[0]?.autostop).toBe("suspend");
    expect(machine!.config.mounts ?? []).toEqual([]);
    expect([...fly.state.apps.get("flightdeck-pr-77")!.volumes.values()]).toHaveLength(0);
  });

  test("a template that is not safe for previews is refused (exit 2)", async () => {
    const cfgDir = await mkdtemp(join(tmpdir(), "preview-bad-"));
    try {
      await Bun.write(join(cfgDir, "fly.toml"), Bun.file(join(ROOT, "fly.toml")));
      const template = await Bun.file(join(ROOT, "fly.preview.toml")).text();
      await Bun.write(
        join(cfgDir, "fly.preview.toml"),
        template
          .replace('APP_ENV = "preview"', 'APP_ENV = "production"')
          .replace(/DATABASE_URL = ".*"/, 'DATABASE_URL = "postgres://prod@db/prod"'),
      );
      const result = await run(["up", "--pr", "1", "--image", IMAGE_V1], env(), { cwd: cfgDir });
      expect(result.code).toBe(2);
      expect(result.stderr).toContain("APP_ENV");
      expect(result.stderr).toContain("DATABASE_URL");
      expect(fly.calls).toHaveLength(0);
    } finally {
      await rm(cfgDir, { recursive: true, force: true });
    }
  });
});
