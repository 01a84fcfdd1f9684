// An app with [processes]: web serves [http_service] with a volume, worker runs a queue with its own [[vm]] and no
// services. Through the CLI against the fake Fly API: deploy, no-op, scale per group (0 included, remembered),
// plan and status per group, rollback, a failed rollout in one group, and the pure merge of per-group plans.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { main } from "../../../deploy/run.ts";
import { ANCHOR_PROCESS_GROUP } from "../../../deploy/fleet/lock.ts";
import { parseDeployConfig } from "../../../deploy/config/flytoml.ts";
import { planGroups, recordedGroupSize } from "../../../deploy/plan/groups.ts";
import type { DesiredState, ObservedMachine, ObservedState } from "../../../deploy/plan/types.ts";
import { startFakeFly, type FakeFly } from "../../fakes/fly-machines.ts";
import { captureIo, IMAGE_V1, IMAGE_V2 } from "../harness.ts";

const APP = "grouped";
const TOML = `app = "${APP}"
primary_region = "ewr"

[processes]
  web = "bun run src/server.ts"
  worker = "bun run worker.ts --queue default"

[deploy]
  release_command = "bun run migrate"
  wait_timeout = "3s"
  release_command_timeout = "3s"

[http_service]
  internal_port = 3000
  force_https = true
  auto_stop_machines = "stop"
  auto_start_machines = true
  min_machines_running = 1
  processes = ["web"]

[[mounts]]
  source = "media"
  destination = "/app/media"
  processes = ["web"]

[[vm]]
  size = "shared-cpu-1x"
  memory = "512mb"
  processes = ["web"]

[[vm]]
  size = "performance-1x"
  processes = ["worker"]

[[restart]]
  policy = "always"
  processes = ["worker"]
`;

let fly: FakeFly;
let configPath: string;
beforeAll(() => {
  fly = startFakeFly();
  configPath = join(mkdtempSync(join(tmpdir(), "flightdeck-groups-")), "fly.toml");
  writeFileSync(configPath, TOML);
});
afterAll(() => fly.close());

async function run(...argv: string[]) {
  const cap = captureIo({ FLY_API_TOKEN: fly.token, FLY_FLAPS_BASE_URL: fly.url });
  const code = await main([...argv, "--config", configPath], cap);
  return { code, out: cap.out.join(""), err: cap.err.join("") };
}

const live = () => fly.machines(APP).filter((m) => m.state !== "destroying" && m.state !== "destroyed");
const group = (g: string) => live().filter((m) => m.config.metadata?.fly_process_group === g);

describe("a two-group app through the CLI", () => {
  test("first deploy: 5 web machines (the production rule) and 1 worker, each with its group's command, VM, volume and restart", async () => {
    const r = await run("deploy", "--image", IMAGE_V1, "--json");
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out).machines).toHaveLength(6);
    const web = group("web");
    const worker = group("worker");
    expect(web).toHaveLength(5);
    expect(worker).toHaveLength(1);
    for (const m of web) {
      expect(m.config.init?.cmd).toEqual(["bun", "run", "src/server.ts"]);
      expect(m.config.env?.FLY_PROCESS_GROUP).toBe("web");
      expect(m.config.services?.[0]?.internal_port).toBe(3000);
      expect(m.config.mounts?.[0]?.name).toBe("media");
      expect(m.config.mounts?.[0]?.volume).toMatch(/^vol_/);
      expect(m.config.guest).toEqual({ cpu_kind: "shared", cpus: 1, memory_mb: 512 });
      expect(m.config.metadata?.flightdeck_group_sizes).toBe("web=5,worker=1");
    }
    const w = worker[0];
    expect(w?.config.init?.cmd).toEqual(["bun", "run", "worker.ts", "--queue", "default"]);
    expect(w?.config.services).toBeUndefined();
    expect(w?.config.mounts).toBeUndefined();
    expect(w?.config.guest).toEqual({ cpu_kind: "performance", cpus: 1, memory_mb: 2048 });
    expect(w?.config.restart).toEqual({ policy: "always" });
    // The release command ran once, not once per group.
    const creates = fly.calls.filter((c) => c.method === "POST" && /\/machines$/.test(c.path)) as {
      body?: { config?: { metadata?: Record<string, string> } };
    }[];
    expect(
      creates.filter((c) => c.body?.config?.metadata?.fly_process_group === "fly_app_release_command"),
    ).toHaveLength(1);
    // Volumes only for the group that mounts one: five, one per web machine.
    expect(fly.calls.filter((c) => c.method === "POST" && /\/volumes$/.test(c.path))).toHaveLength(5);
  });

  test("re-running the deploy changes nothing (zero mutating calls)", async () => {
    const before = fly.mutatingCalls().length;
    const r = await run("deploy", "--image", IMAGE_V1);
    expect(r.code).toBe(0);
    expect(fly.mutatingCalls().length).toBe(before);
  });

  test("plan names each action's group; a new image updates both groups", async () => {
    const r = await run("plan", "--image", IMAGE_V2);
    expect(r.code).toBe(0);
    expect(r.out).toContain("web 5, worker 1 machine(s)");
    expect(r.out.match(/\[web\] ~ update machine/g)).toHaveLength(5);
    expect(r.out.match(/\[worker\] ~ update machine/g)).toHaveLength(1);
    expect(r.out.match(/run release command/g)).toHaveLength(1);
  });

  test("scale --group worker to 0, then deploy: the 0 sticks; back to 2", async () => {
    let r = await run("scale", "--count", "0", "--group", "worker", "--json");
    expect(r.code).toBe(0);
    expect(group("worker")).toHaveLength(0);
    expect(group("web")).toHaveLength(5);
    // The worker's size now lives on the web machines.
    expect(group("web").every((m) => m.config.metadata?.flightdeck_group_sizes === "web=5,worker=0")).toBe(true);

    const before = fly.mutatingCalls().length;
    r = await run("deploy", "--image", IMAGE_V1);
    expect(r.code).toBe(0);
    expect(fly.mutatingCalls().length).toBe(before);
    expect(group("worker")).toHaveLength(0);

    r = await run("scale", "--count", "2", "--group", "worker");
    expect(r.code).toBe(0);
    expect(group("worker")).toHaveLength(2);
    expect(group("worker").every((m) => m.config.image === IMAGE_V1 && m.config.init?.cmd?.[2] === "worker.ts")).toBe(
      true,
    );
  });

  test("the http group keeps production's 1-5 rule; an unknown group is a usage error", async () => {
    for (const argv of [
      ["--count", "0", "--group", "web"],
      ["--count", "6", "--group", "web"],
      ["--count", "6"],
      ["--count", "1", "--group", "cron"],
      ["--count", "-1", "--group", "worker"],
    ]) {
      const r = await run("scale", ...argv);
      expect(r.code).toBe(2);
    }
    const r = await run("scale", "--count", "3", "--group", "web", "--json");
    expect(r.code).toBe(0);
    expect(group("web")).toHaveLength(3);
  });

  test("status shows every group with its size", async () => {
    const r = await run("status", "--json");
    expect(r.code).toBe(0);
    const status = JSON.parse(r.out);
    expect(status.groups).toEqual([
      { name: "web", command: "bun run src/server.ts", fleetSize: 3, machines: 3 },
      { name: "worker", command: "bun run worker.ts --queue default", fleetSize: 2, machines: 2 },
    ]);
    const text = await run("status");
    expect(text.out).toContain("group worker (bun run worker.ts --queue default): 2 machine(s), deploy keeps 2");
  });

  test("secrets set rolls the machines of every group onto the new secrets version", async () => {
    const r = await run("secrets", "set", "WORKER_TOKEN=abc", "--json");
    expect(r.code).toBe(0);
    const version = JSON.parse(r.out).version;
    expect(JSON.parse(r.out).machinesUpdated).toHaveLength(5);
    expect(
      [...group("web"), ...group("worker")].every(
        (m) => m.config.metadata?.flightdeck_secrets_version === String(version),
      ),
    ).toBe(true);
  });

  test("a deploy of v2 moves both groups; rollback puts both back on v1", async () => {
    let r = await run("deploy", "--image", IMAGE_V2);
    expect(r.code).toBe(0);
    expect(
      live()
        .filter(
          (m) =>
            m.config.metadata?.fly_platform_version === "v2" &&
            m.config.metadata?.fly_process_group !== "fly_app_release_command",
        )
        .every((m) => m.config.image === IMAGE_V2),
    ).toBe(true);
    r = await run("rollback", "--to", IMAGE_V1, "--json");
    expect(r.code).toBe(0);
    expect([...group("web"), ...group("worker")].every((m) => m.config.image === IMAGE_V1)).toBe(true);
    expect(group("web")).toHaveLength(3);
    expect(group("worker")).toHaveLength(2);
  });

  test("a rollout that fails in one group rolls back what moved, in every group (exit 1)", async () => {
    fly.faults.failStart((m) => m.config.metadata?.fly_process_group === "worker" && m.config.image === IMAGE_V2);
    const r = await run("deploy", "--image", IMAGE_V2);
    fly.faults.clear();
    expect(r.code).toBe(1);
    expect(r.err).toContain("rolled back");
    expect(r.err).toMatch(/fleet now: 5 machine\(s\): 5 on /);
    expect([...group("web"), ...group("worker")].every((m) => m.config.image === IMAGE_V1)).toBe(true);
    expect(group("web")).toHaveLength(3);
    expect(group("worker")).toHaveLength(2);
  });
});

describe("groups removed from fly.toml", () => {
  test("deploy destroys the machines of a group fly.toml no longer has, after the rest is up (flyctl does the same)", async () => {
    expect(group("worker").length).toBeGreaterThan(0);
    const withoutWorker = TOML.replace('  worker = "bun run worker.ts --queue default"\n', "")
      .replace(/\[\[vm\]\]\n {2}size = "performance-1x"\n {2}processes = \["worker"\]\n/, "")
      .replace(/\[\[restart\]\][\s\S]*$/, "");
    writeFileSync(configPath, withoutWorker);
    try {
      const plan = await run("plan", "--image", IMAGE_V1, "--json");
      expect(plan.code).toBe(0);
      const actions = JSON.parse(plan.out).actions as { kind: string; group?: string; reason: string }[];
      expect(actions.filter((a) => a.kind === "destroy_machine").map((a) => [a.group, a.reason])).toEqual([
        ["worker", 'process group "worker" is no longer in fly.toml'],
        ["worker", 'process group "worker" is no longer in fly.toml'],
      ]);
      const r = await run("deploy", "--image", IMAGE_V1);
      expect(r.code).toBe(0);
      expect(r.err).toContain("are not in fly.toml any more");
      expect(group("worker")).toHaveLength(0);
      expect(group("web")).toHaveLength(3);
    } finally {
      writeFileSync(configPath, TOML);
    }
  });
});

describe("previews", () => {
  test("a preview deploys every group at its minimum: one machine each (PREVIEW_MACHINE_COUNT)", async () => {
    const { createFlyClient } = await import("../../../lib/fly/client.ts");
    const { runDeploy } = await import("../../../deploy/apply/deploy.ts");
    const { PREVIEW_MACHINE_COUNT } = await import("../../../deploy/plan/plan.ts");
    const parsed = parseDeployConfig(
      TOML.replace(`app = "${APP}"`, 'app = "grouped-pr-7"').replace(/\[\[mounts\]\][^[]*/, ""),
    );
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
    const client = createFlyClient({
      baseUrl: fly.url,
      token: fly.token,
      retry: { baseDelayMs: 5, maxDelayMs: 20, rateLimitDelayMs: 20 },
    });
    const result = await runDeploy({
      client,
      config: parsed.config,
      image: IMAGE_V1,
      machineCount: PREVIEW_MACHINE_COUNT,
      requiredSecrets: [],
      pollMs: 10,
      env: {},
    });
    expect(result.machines).toHaveLength(2);
    const groups = fly
      .machines("grouped-pr-7")
      .filter((m) => m.state !== "destroyed")
      .map((m) => m.config.metadata?.fly_process_group)
      .filter((g) => g !== "fly_app_release_command" && g !== ANCHOR_PROCESS_GROUP);
    expect(groups.sort()).toEqual(["web", "worker"]);
  });
});

describe("planGroups (pure)", () => {
  const base: Omit<DesiredState, "processGroup" | "configDigest" | "machineCount"> = {
    app: "a",
    org: "personal",
    region: "ewr",
    image: "img:2",
    hasServices: false,
    requiredSecrets: [],
    strategy: "rolling",
    releaseCommand: "migrate",
  };
  const m = (id: string, g: string, over: Partial<ObservedMachine> = {}): ObservedMachine => ({
    id,
    region: "ewr",
    state: "started",
    image: "img:1",
    platformVersion: "v2",
    processGroup: g,
    configDigest: g,
    ...over,
  });
  const observed = (machines: ObservedMachine[]): ObservedState => ({
    app: { exists: true, name: "a" },
    ips: [],
    secrets: { names: [] },
    volumes: [],
    machines,
  });
  const sizes = { web: 2, worker: 1 };
  const desireds: DesiredState[] = [
    { ...base, processGroup: "web", configDigest: "web", machineCount: 2, hasServices: true, groupSizes: sizes },
    { ...base, processGroup: "worker", configDigest: "worker", machineCount: 1, minCount: 0, groupSizes: sizes },
  ];

  test("app-wide steps once and first; machine actions name their group; other groups' machines are left alone", () => {
    const plan = planGroups(observed([m("w1", "web"), m("q1", "worker"), m("x1", "cron")]), desireds, "deploy");
    expect(plan.actions.map((a) => `${a.kind}${"group" in a && a.group ? `:${a.group}` : ""}`)).toEqual([
      "allocate_ip",
      "allocate_ip",
      "run_release",
      "update_machine:web",
      "create_machine:web",
      "update_machine:worker",
    ]);
    expect(plan.target.groups).toEqual({
      web: { configDigest: "web", machineCount: 2, image: "img:2" },
      worker: { configDigest: "worker", machineCount: 1, image: "img:2" },
    });
    expect(plan.ignored).toEqual([
      { machineId: "x1", why: 'process group "cron" is not in fly.toml [processes]; left as it is' },
    ]);
    const refs = plan.actions.flatMap((a) => (a.kind === "create_machine" ? [a.ref] : []));
    expect(refs).toEqual(["web-new-1"]);
  });

  test("a fleet on target is one noop naming each group", () => {
    const sized = { fleetSize: 0, groupSizes: sizes };
    const plan = planGroups(
      observed([
        m("w1", "web", { ...sized, fleetSize: 2, image: "img:2" }),
        m("w2", "web", { ...sized, fleetSize: 2, image: "img:2" }),
        m("q1", "worker", { ...sized, fleetSize: 1, image: "img:2" }),
      ]),
      desireds.map((d) => ({ ...d, hasServices: false })),
      "deploy",
    );
    expect(plan.mutating).toBe(false);
    expect(plan.actions).toHaveLength(1);
    expect(plan.actions[0]?.reason).toStartWith("web: 2 machine(s) already run img:2");
  });

  test("recorded sizes: own machines first, then the others' record, then 5 (http group) or 1", () => {
    const state = observed([m("w1", "web", { fleetSize: 3, groupSizes: { web: 3, worker: 0 } })]);
    expect(recordedGroupSize(state, { name: "web", primary: true })).toBe(3);
    expect(recordedGroupSize(state, { name: "worker", primary: false })).toBe(0);
    expect(recordedGroupSize(state, { name: "cron", primary: false })).toBe(1);
    expect(recordedGroupSize(observed([]), { name: "web", primary: true })).toBe(5);
  });

  test("exit 0 covers every group: a worker short of its count fails verification", async () => {
    const { verifyGroups } = await import("../../../deploy/fleet/verify-groups.ts");
    const cfg = parseDeployConfig(TOML);
    if (!cfg.ok) throw new Error("config");
    const target = {
      image: "img:2",
      configDigest: "web",
      region: "ewr",
      machineCount: 1,
      strategy: "rolling" as const,
      groups: {
        web: { configDigest: "web", machineCount: 1, image: "img:2" },
        worker: { configDigest: "worker", machineCount: 1, image: "img:2" },
      },
    };
    const onTarget = observed([m("w1", "web", { image: "img:2" }), m("q1", "worker", { image: "img:2" })]);
    expect(verifyGroups(onTarget, target, cfg.config).ok).toBe(true);
    const short = verifyGroups(observed([m("w1", "web", { image: "img:2" })]), target, cfg.config);
    expect(short.ok).toBe(false);
    if (!short.ok) expect(short.problems).toEqual(["group worker: 0 machine(s), want 1"]);
  });

  test("fly.toml groups: the config is read with every section scoped", () => {
    const r = parseDeployConfig(TOML);
    expect(r.ok).toBe(true);
  });
});
