// The CLI contract of DESIGN.md: exit codes 0/1/2, --json shape, progress on stderr, token never printed.
// In-process through main(), plus one real `bun deploy/run.ts` process.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { COMMANDS, main } from "../../../deploy/run.ts";
import { parseArgs } from "../../../deploy/cli/args.ts";
import { startFakeFly, type FakeFly } from "../../fakes/fly-machines.ts";
import { captureIo, GOOD_SECRETS, IMAGE_V1, IMAGE_V2 } from "../harness.ts";

let fly: FakeFly;
let configPath: string;

beforeAll(async () => {
  fly = startFakeFly();
  const dir = mkdtempSync(join(tmpdir(), "flightdeck-cli-"));
  configPath = join(dir, "fly.toml");
  const text = (await Bun.file(new URL("../../../fly.toml", import.meta.url)).text()).replace(
    /wait_timeout = "[^"]*"/,
    'wait_timeout = "3s"',
  );
  writeFileSync(configPath, text);
});
afterAll(() => fly.close());

function io(extra: Record<string, string> = {}) {
  return captureIo({ FLY_API_TOKEN: fly.token, FLY_FLAPS_BASE_URL: fly.url, ...extra });
}

async function run(argv: string[], env?: Record<string, string>) {
  const cap = io(env);
  const code = await main(argv, cap);
  return { code, out: cap.out.join(""), err: cap.err.join("") };
}

test("unknown command or flag: usage on stderr, exit 2", async () => {
  for (const argv of [
    ["launch"],
    ["deploy", "--force"],
    [],
    ["scale"],
    ["deploy", "--strategy", "yolo"],
    ["secrets", "rotate"],
  ]) {
    const r = await run(argv);
    expect(r.code).toBe(2);
    expect(r.err).toContain("usage: bun deploy/run.ts");
    expect(r.out).toBe("");
  }
});

test("missing token: exit 2 before any call", async () => {
  const before = fly.calls.length;
  const cap = captureIo({ FLY_FLAPS_BASE_URL: fly.url });
  expect(await main(["deploy", "--config", configPath, "--image", IMAGE_V1], cap)).toBe(2);
  expect(cap.err.join("")).toContain("FLY_API_TOKEN");
  expect(fly.calls.length).toBe(before);
});

test("a rejected token (401): exit 1, and the hint names the Fly dashboard and token create, never flyctl", async () => {
  const r = await run(["status", "--config", configPath], { FLY_API_TOKEN: "fm2_rejected" });
  expect(r.code).toBe(1);
  expect(r.err).toContain("FLY_API_TOKEN was rejected");
  expect(r.err).toContain("Fly dashboard");
  expect(r.err).toContain("bun deploy/run.ts token create");
  expect(r.err).not.toMatch(/\bfly(ctl)? tokens\b/);
  expect(r.err).not.toContain("fm2_rejected");
});

test("invalid config: exit 2 naming the key", async () => {
  const bad = join(mkdtempSync(join(tmpdir(), "flightdeck-bad-")), "fly.toml");
  writeFileSync(bad, 'app = "x1"\nprimary_region = "ewr"\n[http_service]\ninternal_port = 3000\nauto_stop = "stop"\n');
  const r = await run(["plan", "--config", bad]);
  expect(r.code).toBe(2);
  expect(r.err).toContain("auto_stop");
});

test("deploy before secrets exist: exit 2, nothing changed; secrets set refuses bad values", async () => {
  let r = await run(["deploy", "--config", configPath, "--image", IMAGE_V1, "--json"]);
  expect(r.code).toBe(2);
  expect(r.err).toContain("DATABASE_URL");
  expect(JSON.parse(r.out).error.exitCode).toBe(2);
  expect(fly.mutatingCalls()).toHaveLength(0);

  r = await run(["secrets", "set", "SECRET_KEY=hunter2-tiny", "--config", configPath]);
  expect(r.code).toBe(2);
  expect(r.err).not.toContain("hunter2-tiny");
  expect(r.err).toContain("SECRET_KEY");
  expect(fly.mutatingCalls()).toHaveLength(0);
});

test("secrets set / list, deploy --json, no-op, status, scale, rollback, destroy", async () => {
  let r = await run([
    "secrets",
    "set",
    `DATABASE_URL=${GOOD_SECRETS.DATABASE_URL}`,
    `SECRET_KEY=${GOOD_SECRETS.SECRET_KEY}`,
    "--config",
    configPath,
    "--json",
  ]);
  expect(r.code).toBe(0);
  expect(JSON.parse(r.out)).toMatchObject({ app: "flightdeck", set: ["DATABASE_URL", "SECRET_KEY"], createdApp: true });
  expect(r.out + r.err).not.toContain(GOOD_SECRETS.SECRET_KEY);

  r = await run(["secrets", "list", "--config", configPath]);
  expect(r.code).toBe(0);
  expect(r.out).toContain("SECRET_KEY");
  expect(r.out + r.err).not.toContain(GOOD_SECRETS.SECRET_KEY);
  expect(r.out + r.err).not.toContain(GOOD_SECRETS.DATABASE_URL);

  r = await run(["deploy", "--config", configPath, "--image", IMAGE_V1, "--json"]);
  expect(r.code).toBe(0);
  const deployed = JSON.parse(r.out);
  expect(Object.keys(deployed).sort()).toEqual(["app", "image", "machines", "release", "url"]);
  expect(deployed).toMatchObject({
    app: "flightdeck",
    url: "https://flightdeck.fly.dev/",
    image: IMAGE_V1,
    release: 1,
  });
  expect(deployed.machines).toHaveLength(5);
  for (const m of deployed.machines) expect(Object.keys(m).sort()).toEqual(["id", "image", "region", "state"]);
  expect(r.err).toContain("==> ");
  expect(r.out + r.err).not.toContain(fly.token);

  const before = fly.mutatingCalls().length;
  r = await run(["deploy", "--config", configPath, "--image", IMAGE_V1]);
  expect(r.code).toBe(0);
  expect(r.out).toBe("");
  expect(fly.mutatingCalls().length).toBe(before);

  r = await run(["plan", "--config", configPath, "--image", IMAGE_V2, "--json"]);
  expect(r.code).toBe(0);
  const plan = JSON.parse(r.out);
  expect(plan.actions.filter((a: { kind: string }) => a.kind === "update_machine")).toHaveLength(5);
  expect(fly.mutatingCalls().length).toBe(before);

  r = await run(["status", "--config", configPath, "--json"]);
  expect(r.code).toBe(0);
  expect(JSON.parse(r.out).machines.filter((m: { group: string }) => m.group === "app")).toHaveLength(5);

  r = await run(["scale", "--count", "9", "--config", configPath]);
  expect(r.code).toBe(2);
  r = await run(["scale", "--count", "3", "--config", configPath, "--json"]);
  expect(r.code).toBe(0);
  expect(JSON.parse(r.out).machines).toHaveLength(3);

  r = await run(["status", "--config", configPath, "--json"]);
  expect(JSON.parse(r.out).fleetSize).toBe(3);
  r = await run(["deploy", "--config", configPath, "--image", IMAGE_V2, "--json"], { GITHUB_ACTIONS: "true" });
  expect(r.code).toBe(0);
  // The scale sticks: deploy keeps 3 machines.
  expect(JSON.parse(r.out).machines).toHaveLength(3);
  expect(r.err).toContain("::group::");
  expect(r.err).toContain("::endgroup::");
  r = await run(["rollback", "--config", configPath, "--json"]);
  expect(r.code).toBe(0);
  expect(JSON.parse(r.out).image).toBe(IMAGE_V1);

  r = await run(["destroy", "--app", "flightdeck"]);
  expect(r.code).toBe(2);
  r = await run(["destroy", "--app", "flightdeck", "--yes", "--json"]);
  expect(r.code).toBe(0);
  expect(JSON.parse(r.out)).toEqual({ app: "flightdeck", existed: true });
  expect(fly.state.apps.has("flightdeck")).toBe(false);
});

test("a failed deploy exits 1 with the fleet state; --json carries the error", async () => {
  await run([
    "secrets",
    "set",
    `DATABASE_URL=${GOOD_SECRETS.DATABASE_URL}`,
    `SECRET_KEY=${GOOD_SECRETS.SECRET_KEY}`,
    "--config",
    configPath,
  ]);
  fly.faults.exitCode(1, (m) => m.config.metadata?.fly_process_group === "fly_app_release_command");
  const r = await run(["deploy", "--config", configPath, "--image", IMAGE_V1, "--json"]);
  fly.faults.clear();
  expect(r.code).toBe(1);
  expect(JSON.parse(r.out).error).toMatchObject({ code: "release_command_failed", exitCode: 1 });
  expect(r.err).toContain("exited with status 1");
});

test("the real process: bun deploy/run.ts status --json", async () => {
  const proc = Bun.spawn(["bun", "deploy/run.ts", "status", "--config", configPath, "--json"], {
    cwd: new URL("../../..", import.meta.url).pathname,
    env: { ...process.env, FLY_API_TOKEN: fly.token, FLY_FLAPS_BASE_URL: fly.url },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [out, code] = await Promise.all([new Response(proc.stdout).text(), proc.exited]);
  expect(code).toBe(0);
  expect(JSON.parse(out)).toMatchObject({ app: "flightdeck" });
});

test("the command table: every flag parses, image and preview are delegated", () => {
  expect(Object.keys(COMMANDS).sort()).toEqual(
    expect.arrayContaining([
      "certs",
      "db",
      "deploy",
      "destroy",
      "exec",
      "image",
      "logs",
      "plan",
      "preview",
      "rollback",
      "scale",
      "secrets",
      "status",
      "token",
    ]),
  );
  // Everything after a bare `--` is the remote command's, flags included; only exec takes one.
  expect(parseArgs(["exec", "--machine", "abc", "--", "bun", "run", "migrate", "--json"])).toMatchObject({
    flags: { machine: "abc" },
    rest: ["bun", "run", "migrate", "--json"],
  });
  expect(() => parseArgs(["logs", "--", "x"])).toThrow("takes no command after --");
  expect(parseArgs(["deploy", "--config=fly.toml", "--strategy", "canary", "--json"]).flags).toEqual({
    config: "fly.toml",
    strategy: "canary",
    json: true,
  });
  expect(parseArgs(["secrets", "set", "A=1", "B=2"]).positionals).toEqual(["A=1", "B=2"]);
  expect(parseArgs(["preview", "up", "--pr", "4"]).flags.pr).toBe(4);
});

test("preview is delegated to deploy/preview/preview.ts: its own usage errors exit 2", async () => {
  const r = await run(["preview", "up"]);
  expect(r.code).toBe(2);
  expect(r.err).toContain("--pr");
});
