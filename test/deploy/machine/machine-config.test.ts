import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import Ajv from "ajv";
import spec from "../../../lib/fly/spec/fly-machines-openapi.json";
import { desiredState } from "../../../deploy/machine/desired.ts";
import { PRODUCTION_MACHINE_COUNT, planDeploy } from "../../../deploy/plan/plan.ts";
import {
  type DeployConfig,
  formatProblems,
  loadDeployConfig,
  parseDeployConfig,
} from "../../../deploy/config/flytoml.ts";
import {
  MissingReleaseCommandError,
  buildMachineConfig,
  buildReleaseMachineConfig,
  configDigest,
} from "../../../deploy/machine/machine-config.ts";

const ROOT = join(import.meta.dir, "..", "..", "..");
const IMAGE = "registry.fly.io/flightdeck:deployment-01J5BXAR9FC44Q83352J39A9J9";

async function load(file: string): Promise<DeployConfig> {
  const r = await loadDeployConfig(join(ROOT, file));
  if (!r.ok) throw new Error(formatProblems(r.problems));
  return r.config;
}

function parse(toml: string): DeployConfig {
  const r = parseDeployConfig(`app = "demo"\nprimary_region = "iad"\n${toml}`);
  if (!r.ok) throw new Error(formatProblems(r.problems));
  return r.config;
}

const healthCheck = {
  type: "http",
  interval: "15s",
  timeout: "5s",
  grace_period: "10s",
  method: "GET",
  path: "/health",
};

describe("production fly.toml", () => {
  test("app machine config, pinned in full", async () => {
    const cfg = await load("fly.toml");
    const config = buildMachineConfig(cfg, {
      image: IMAGE,
      releaseVersion: 7,
      volumeId: "vol_123",
      secretsVersion: 4,
      appVersion: "deployment-01J5",
    });
    const digest = config.metadata?.flightdeck_config_digest;
    expect(digest).toMatch(/^[0-9a-f]{64}$/);
    expect(config).toEqual({
      image: IMAGE,
      init: {},
      env: {
        APP_ENV: "production",
        PORT: "3000",
        HOST: "0.0.0.0",
        MEDIA_DIR: "/app/media",
        FLY_PROCESS_GROUP: "app",
        PRIMARY_REGION: "ewr",
        APP_VERSION: "deployment-01J5",
      },
      guest: { cpu_kind: "shared", cpus: 1, memory_mb: 512 },
      metadata: {
        fly_platform_version: "v2",
        fly_process_group: "app",
        fly_release_version: "7",
        flightdeck_secrets_version: "4",
        flightdeck_config_digest: digest as string,
      },
      services: [
        {
          protocol: "tcp",
          internal_port: 3000,
          ports: [
            { port: 80, handlers: ["http"], force_https: true },
            { port: 443, handlers: ["http", "tls"] },
          ],
          autostop: "stop",
          autostart: true,
          min_machines_running: 1,
          concurrency: { type: "requests", soft_limit: 200, hard_limit: 250 },
          checks: [healthCheck],
        },
      ],
      mounts: [{ name: "media", path: "/app/media", volume: "vol_123" }],
      stop_config: { signal: "SIGTERM", timeout: "30s" },
      restart: { policy: "on-failure", max_retries: 10 },
    });
  });

  test("release command machine, pinned in full", async () => {
    const cfg = await load("fly.toml");
    expect(buildReleaseMachineConfig(cfg, { image: IMAGE, releaseVersion: 7 })).toEqual({
      image: IMAGE,
      init: { cmd: ["bun", "run", "migrate"] },
      env: {
        APP_ENV: "production",
        PORT: "3000",
        HOST: "0.0.0.0",
        MEDIA_DIR: "/app/media",
        RELEASE_COMMAND: "1",
        FLY_PROCESS_GROUP: "fly_app_release_command",
        PRIMARY_REGION: "ewr",
      },
      guest: { cpu_kind: "shared", cpus: 1, memory_mb: 512 },
      restart: { policy: "no" },
      auto_destroy: true,
      dns: { skip_registration: true },
      metadata: { fly_platform_version: "v2", fly_process_group: "fly_app_release_command", fly_release_version: "7" },
      stop_config: { signal: "SIGTERM", timeout: "30s" },
    });
  });
});

describe("preview fly.preview.toml", () => {
  test("app machine config, pinned in full", async () => {
    const cfg = await load("fly.preview.toml");
    const config = buildMachineConfig(cfg, { image: IMAGE, releaseVersion: 1 });
    expect(config).toEqual({
      image: IMAGE,
      init: {},
      env: {
        APP_ENV: "preview",
        PORT: "3000",
        HOST: "0.0.0.0",
        DATABASE_URL: "sqlite:/app/data/flightdeck.db",
        MEDIA_DIR: "/app/data/media",
        FLY_PROCESS_GROUP: "app",
        PRIMARY_REGION: "ewr",
      },
      guest: { cpu_kind: "shared", cpus: 1, memory_mb: 256 },
      metadata: {
        fly_platform_version: "v2",
        fly_process_group: "app",
        fly_release_version: "1",
        flightdeck_config_digest: config.metadata?.flightdeck_config_digest as string,
      },
      services: [
        {
          protocol: "tcp",
          internal_port: 3000,
          ports: [
            { port: 80, handlers: ["http"], force_https: true },
            { port: 443, handlers: ["http", "tls"] },
          ],
          autostop: "suspend",
          autostart: true,
          min_machines_running: 0,
          concurrency: { type: "requests", soft_limit: 50, hard_limit: 100 },
          checks: [healthCheck],
        },
      ],
      stop_config: { signal: "SIGTERM", timeout: "10s" },
    });
  });

  test("has no release command, so asking for its machine is a coded error", async () => {
    const cfg = await load("fly.preview.toml");
    expect(() => buildReleaseMachineConfig(cfg, { image: IMAGE, releaseVersion: 1 })).toThrow(
      MissingReleaseCommandError,
    );
  });
});

describe("flyctl mapping details", () => {
  test("minimal config: default guest shared-cpu-1x, no services, no stop_config, no restart", () => {
    const config = buildMachineConfig(parse(""), {
      image: "img",
      releaseVersion: 1,
      processGroup: "app",
      extraMetadata: { owner: "ci" },
    });
    expect(config).toEqual({
      image: "img",
      init: {},
      env: { FLY_PROCESS_GROUP: "app", PRIMARY_REGION: "iad" },
      guest: { cpu_kind: "shared", cpus: 1, memory_mb: 256 },
      metadata: {
        owner: "ci",
        fly_platform_version: "v2",
        fly_process_group: "app",
        fly_release_version: "1",
        flightdeck_config_digest: config.metadata?.flightdeck_config_digest as string,
      },
    });
  });

  test("top-level checks take internal_port and upper-cased methods; headers become {name, values}; ms integers become Go strings", () => {
    const cfg = parse(
      [
        "[http_service]\ninternal_port = 8080\nforce_https = false",
        '[[http_service.checks]]\ninterval = 30000\ntimeout = 2000\nmethod = "get"\npath = "/"\nprotocol = "http"',
        '[http_service.checks.headers]\nX-B = "2"\nX-A = "1"',
        '[checks.tcp_alive]\ntype = "tcp"\ninterval = "1m"',
        '[checks.web]\ntype = "http"\nport = 9000\nmethod = "head"\npath = "/up"',
        '[[restart]]\npolicy = "never"',
        '[metrics]\nport = 9091\npath = "/metrics"',
      ].join("\n"),
    );
    const config = buildMachineConfig(cfg, { image: "img", releaseVersion: 2 });
    expect(config.services).toEqual([
      {
        protocol: "tcp",
        internal_port: 8080,
        ports: [
          { port: 80, handlers: ["http"] },
          { port: 443, handlers: ["http", "tls"] },
        ],
        checks: [
          {
            type: "http",
            interval: "30s",
            timeout: "2s",
            method: "get",
            path: "/",
            protocol: "http",
            headers: [
              { name: "X-A", values: ["1"] },
              { name: "X-B", values: ["2"] },
            ],
          },
        ],
      },
    ]);
    expect(config.checks).toEqual({
      tcp_alive: { type: "tcp", interval: "1m0s", port: 8080 },
      web: { type: "http", method: "HEAD", path: "/up", port: 9000 },
    });
    expect(config.restart).toEqual({ policy: "no" });
    expect(config.metrics).toEqual({ port: 9091, path: "/metrics" });
  });

  test('auto_stop_machines legacy false is sent as "off"; kill_signal alone gives stop_config without timeout', () => {
    const config = buildMachineConfig(
      parse('kill_signal = "SIGINT"\n[http_service]\ninternal_port = 1\nauto_stop_machines = false'),
      { image: "i", releaseVersion: 1 },
    );
    expect(config.services?.[0]?.autostop).toBe("off");
    expect(config.stop_config).toEqual({ signal: "SIGINT" });
  });

  test("mounts without a volumeId leave `volume` out for apply to fill", () => {
    const config = buildMachineConfig(parse('[mounts]\nsource = "data"\ndestination = "/data"'), {
      image: "i",
      releaseVersion: 1,
    });
    expect(config.mounts).toEqual([{ name: "data", path: "/data" }]);
  });

  test("release machine without [[vm]] uses flyctl's shared-cpu-2x fallback", () => {
    const config = buildReleaseMachineConfig(parse("[deploy]\nrelease_command = \"sh -c 'echo hi'\""), {
      image: "i",
      releaseVersion: 1,
    });
    expect(config.guest).toEqual({ cpu_kind: "shared", cpus: 2, memory_mb: 512 });
    expect(config.init).toEqual({ cmd: ["sh", "-c", "echo hi"] });
  });
});

describe("configDigest", () => {
  test("ignores image, release/secrets metadata and volume ids; stored digest equals a recomputation", async () => {
    const cfg = await load("fly.toml");
    const a = buildMachineConfig(cfg, {
      image: "img:1",
      releaseVersion: 1,
      volumeId: "vol_a",
      secretsVersion: 1,
      fleetSize: 5,
    });
    const b = buildMachineConfig(cfg, {
      image: "img:2",
      releaseVersion: 2,
      volumeId: "vol_b",
      secretsVersion: 9,
      fleetSize: 2,
    });
    expect(a.metadata?.flightdeck_fleet_size).toBe("5");
    expect(b.metadata?.flightdeck_fleet_size).toBe("2");
    expect(a.metadata?.flightdeck_config_digest).toBe(b.metadata?.flightdeck_config_digest as string);
    expect(configDigest(a)).toBe(a.metadata?.flightdeck_config_digest as string);
  });

  test("does not depend on key order", async () => {
    const cfg = await load("fly.toml");
    const a = buildMachineConfig(cfg, { image: "img", releaseVersion: 1 });
    const reverseKeys = (v: unknown): unknown =>
      Array.isArray(v)
        ? v.map(reverseKeys)
        : v && typeof v === "object"
          ? Object.fromEntries(
              Object.entries(v)
                .reverse()
                .map(([k, x]) => [k, reverseKeys(x)]),
            )
          : v;
    const reversed = reverseKeys(a) as typeof a;
    expect(JSON.stringify(reversed)).not.toBe(JSON.stringify(a));
    expect(configDigest(reversed)).toBe(configDigest(a));
  });

  test.each([
    ["env", '[env]\nAPP_ENV = "production"\nNEW = "1"'],
    ["memory", '[[vm]]\nmemory = "1gb"'],
    ["check", '[http_service]\ninternal_port = 3000\n[[http_service.checks]]\npath = "/other"'],
    ["kill timeout", "kill_timeout = 31"],
  ])("changes when %s changes", (_what, toml) => {
    const base = buildMachineConfig(parse('[env]\nAPP_ENV = "production"'), { image: "i", releaseVersion: 1 });
    const changed = buildMachineConfig(parse(toml), { image: "i", releaseVersion: 1 });
    expect(configDigest(changed)).not.toBe(configDigest(base));
  });

  test("production and preview digests differ", async () => {
    const prod = buildMachineConfig(await load("fly.toml"), { image: "i", releaseVersion: 1 });
    const preview = buildMachineConfig(await load("fly.preview.toml"), { image: "i", releaseVersion: 1 });
    expect(configDigest(prod)).not.toBe(configDigest(preview));
  });
});

describe("against the Machines API spec", () => {
  const ajv = new Ajv({ strict: false, allErrors: true });
  ajv.addSchema(spec as object, "fly");
  const validate = ajv.getSchema("fly#/components/schemas/fly.MachineConfig");

  test.each(["fly.toml", "fly.preview.toml"])(
    "%s app and release configs validate as fly.MachineConfig",
    async (file) => {
      const cfg = await load(file);
      const configs = [buildMachineConfig(cfg, { image: IMAGE, releaseVersion: 1, volumeId: "vol_1" })];
      if (cfg.deploy.releaseCommand) configs.push(buildReleaseMachineConfig(cfg, { image: IMAGE, releaseVersion: 1 }));
      for (const c of configs) {
        const ok = validate?.(c);
        expect(validate?.errors ?? []).toEqual([]);
        expect(ok).toBe(true);
      }
    },
  );

  test("the validator catches what flyctl would send but the spec refuses (autostop as a boolean)", () => {
    expect(validate?.({ image: "i", services: [{ autostop: true }] })).toBe(false);
  });
});

describe("desiredState", () => {
  test("a machine built by buildMachineConfig for a release is seen as up to date by the planner", async () => {
    const cfg = await load("fly.toml");
    const desired = desiredState(cfg, {
      image: IMAGE,
      org: "personal",
      machineCount: 1,
      requiredSecrets: [],
      appVersion: "deployment-01J5",
      region: { region: "ewr", keepRegions: false },
    });
    expect(desired).toMatchObject({
      app: "flightdeck",
      region: "ewr",
      machineCount: 1,
      hasServices: true,
      volume: { name: "media", sizeGb: 1 },
      releaseCommand: "bun run migrate",
      strategy: "rolling",
    });
    const config = buildMachineConfig(cfg, {
      image: IMAGE,
      releaseVersion: 12,
      volumeId: "vol_1",
      secretsVersion: 2,
      appVersion: "deployment-01J5",
      fleetSize: 1,
    });
    const md = config.metadata ?? {};
    const observed = {
      id: "m1",
      region: "ewr",
      state: "started",
      image: config.image ?? "",
      platformVersion: md.fly_platform_version,
      processGroup: md.fly_process_group,
      configDigest: md.flightdeck_config_digest,
      secretsVersion: Number(md.flightdeck_secrets_version),
      fleetSize: Number(md.flightdeck_fleet_size),
      volumeId: config.mounts?.[0]?.volume,
    };
    const plan = planDeploy(
      {
        app: { exists: true, name: "flightdeck" },
        ips: [
          { address: "::1", kind: "public_v6" },
          { address: "1.2.3.4", kind: "public_v4" },
        ],
        secrets: { names: [], version: 2 },
        volumes: [],
        machines: [observed],
      },
      desired,
    );
    expect(plan.actions).toEqual([
      { kind: "noop", reason: `1 machine(s) already run ${IMAGE} with config ${desired.configDigest.slice(0, 12)}` },
    ]);
    expect(PRODUCTION_MACHINE_COUNT).toBe(5);
  });
});

describe("sections beyond the production fly.toml", () => {
  test("[[mounts]] auto_extend_size_* go on the mount; encrypted/snapshots on the volume request", async () => {
    const { volumeSettings } = await import("../../../deploy/machine/machine-config.ts");
    const cfg = parse(
      '[[mounts]]\nsource = "data"\ndestination = "/data"\nencrypted = false\nscheduled_snapshots = false\nsnapshot_retention = 7\nauto_extend_size_threshold = 80\nauto_extend_size_increment = "1GB"\nauto_extend_size_limit = "10GB"',
    );
    expect(buildMachineConfig(cfg, { image: IMAGE, releaseVersion: 1 }).mounts).toEqual([
      { name: "data", path: "/data", extend_threshold_percent: 80, add_size_gb: 1, size_gb_limit: 10 },
    ]);
    expect(volumeSettings(cfg)).toEqual({
      encrypted: false,
      auto_backup_enabled: false,
      snapshot_retention: 7,
      compute: { cpu_kind: "shared", cpus: 1, memory_mb: 256 },
    });
    expect(volumeSettings(parse('[mounts]\nsource = "d"\ndestination = "/d"')).encrypted).toBe(true);
  });

  test("[[files]] raw_value is sent base64 (flyctl toMachineFile), secret_name as is; swap and statics", () => {
    const cfg = parse(
      'swap_size_mb = 256\n[[files]]\nguest_path = "/etc/motd"\nraw_value = "hello"\n[[files]]\nguest_path = "/etc/key"\nsecret_name = "KEY"\n[[statics]]\nguest_path = "/app/public"\nurl_prefix = "/static"',
    );
    const c = buildMachineConfig(cfg, { image: IMAGE, releaseVersion: 1 });
    expect(c.files).toEqual([
      { guest_path: "/etc/motd", raw_value: Buffer.from("hello").toString("base64") },
      { guest_path: "/etc/key", secret_name: "KEY" },
    ]);
    expect(c.init).toEqual({ swap_size_mb: 256 });
    expect(c.statics).toEqual([{ guest_path: "/app/public", url_prefix: "/static" }]);
  });

  test("a GPU [[vm]] gives a 100 GB volume unless initial_size is written (flyctl deploy)", () => {
    const region = { region: "iad", keepRegions: false };
    const gpu = parse('[[vm]]\nsize = "l40s"\n[[mounts]]\nsource = "models"\ndestination = "/models"');
    expect(buildMachineConfig(gpu, { image: IMAGE, releaseVersion: 1 }).guest).toEqual({
      cpu_kind: "performance",
      cpus: 8,
      memory_mb: 32768,
      gpu_kind: "l40s",
      gpus: 1,
    });
    expect(desiredState(gpu, { image: IMAGE, org: "o", machineCount: 1, requiredSecrets: [], region }).volume).toEqual({
      name: "models",
      sizeGb: 100,
    });
    const sized = parse(
      '[[vm]]\nsize = "l40s"\n[[mounts]]\nsource = "models"\ndestination = "/models"\ninitial_size = "20gb"',
    );
    expect(
      desiredState(sized, { image: IMAGE, org: "o", machineCount: 1, requiredSecrets: [], region }).volume,
    ).toEqual({ name: "models", sizeGb: 20 });
  });

  test("[[services]] tcp and udp with ports, handlers, checks, and autostop per service", () => {
    const cfg = parse(
      '[[services]]\nprotocol = "udp"\ninternal_port = 5000\n[[services.ports]]\nport = 5000\n[[services]]\nprotocol = "tcp"\ninternal_port = 8080\nauto_stop_machines = "suspend"\nmin_machines_running = 2\n[[services.ports]]\nport = 443\nhandlers = ["tls", "http"]\n[services.ports.tls_options]\nalpn = ["h2"]\n[[services.tcp_checks]]\ninterval = "15s"\n[[services.http_checks]]\npath = "/up"\nmethod = "get"',
    );
    expect(buildMachineConfig(cfg, { image: IMAGE, releaseVersion: 1 }).services).toEqual([
      { protocol: "udp", internal_port: 5000, ports: [{ port: 5000 }] },
      {
        protocol: "tcp",
        internal_port: 8080,
        autostop: "suspend",
        min_machines_running: 2,
        ports: [{ port: 443, handlers: ["tls", "http"], tls_options: { alpn: ["h2"] } as never }],
        checks: [
          { type: "tcp", interval: "15s" },
          { type: "http", path: "/up", method: "get" },
        ],
      },
    ]);
  });
});
