// Parity with flyctl's own tests of internal/appconfig: every fixture flyctl's tests load
// (test/fixtures/flyctl-appconfig, copied verbatim, Apache-2.0) is read by Flightdeck, and the machine configs
// built from them match what flyctl's machines_test.go, processgroups_test.go, serde_test.go and config_test.go
// expect, field by field. Where Flightdeck differs on purpose, the expectation says why.

import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import Ajv from "ajv";
import spec from "../../../lib/fly/spec/fly-machines-openapi.json";
import { type DeployConfig, dockerBuildOf, formatProblems, parseDeployConfig } from "../../../deploy/config/flytoml.ts";
import { defaultProcessName, groupProblems, processNames } from "../../../deploy/config/flytoml-groups.ts";
import {
  buildMachineConfig,
  buildReleaseMachineConfig,
  type MachineConfig,
} from "../../../deploy/machine/machine-config.ts";
import { appUrl, ipv4Needed } from "../../../deploy/config/public-address.ts";

const DIR = join(import.meta.dir, "..", "..", "fixtures", "flyctl-appconfig");
const FIXTURES = readdirSync(DIR)
  .filter((f) => f.endsWith(".toml"))
  .sort();
const IMAGE = `registry.fly.io/foo@sha256:${"a".repeat(64)}`;

/**
 * flyctl's fixtures predate Fly's October 2025 region removal (config/regions.ts): mia, scl and sea are no longer
 * regions, so they are allowed here as a newer region would be (--allow-region); this file tests the machine configs.
 */
const FIXTURE_REGIONS = ["mia", "scl", "sea"];

function read(file: string) {
  return parseDeployConfig(readFileSync(join(DIR, file), "utf8"), {
    path: join(DIR, file),
    allowRegions: FIXTURE_REGIONS,
  });
}

function load(file: string): DeployConfig {
  const r = read(file);
  if (!r.ok) throw new Error(`${file}:\n${formatProblems(r.problems)}`);
  return r.config;
}

function machine(cfg: DeployConfig, group?: string): MachineConfig {
  return buildMachineConfig(cfg, { image: IMAGE, releaseVersion: 1, ...(group ? { processGroup: group } : {}) });
}

/** What flyctl's fly-go marshals, minus the fields Flightdeck adds for itself (see the comment at each use). */
function comparable(
  c: MachineConfig,
): Omit<MachineConfig, "image" | "guest" | "metadata"> & { metadata: Record<string, string> } {
  const { image: _i, guest: _g, metadata = {}, ...rest } = c;
  const { fly_release_version: _r, flightdeck_config_digest: _d, ...md } = metadata;
  return { ...rest, metadata: md };
}

/**
 * Fixtures that are read but not deployable, and why. Everything else reads with no problem (warnings allowed).
 * flyctl refuses each of these too (in LoadConfig or Validate), except where the reason says otherwise.
 */
const NOT_DEPLOYABLE: Record<string, string[]> = {
  // serde_test TestLoadTOMLAppConfigInvalidV2: flyctl cannot read it either ("Unknown type for service concurrency: int64").
  "always-invalid-v2.toml": ["services[0].concurrency: expected a table, got an integer"],
  "full-reference.toml": [
    // flyctl Validate: "unsupported deployment strategy 'rolling-eyes'".
    'deploy.strategy: "rolling-eyes" is not one of "rolling", "immediate", "bluegreen", "canary"; did you mean "rolling"?',
    // Stricter than flyctl on purpose: flyctl sends this guest and the Machines API refuses it mid-deploy.
    "vm[1]: 1 shared CPU(s) need between 256 and 2048 MB of memory, got 4096 MB",
    // flyctl fails at deploy too (MergeFiles reads local_path); we read it with the file, so it shows up now.
    "files[2].local_path: cannot read /local/path/config.yaml: ENOENT",
    // flyctl validateServicesSection: "Service has no processes set but app has 2 processes defined".
    "http_service: [http_service] has no processes set but [processes] defines 2 group(s) (task, web); set processes = [...]",
    // flyctl validateServicesSection: "Service specifies 'app' as one of its processes, but no processes are defined with that name".
    'services[0].processes: "app" is not a process group (task, web); add it to [processes] or remove it here',
  ],
  // Stricter than flyctl on purpose: a relative mount path ("bar") is refused by the Machines API; flyctl sends it.
  "validate-groups.toml": ['mounts[0].destination: "bar" is not valid: an absolute path inside the machine'],
  // validation_test TestConfig_ValidateMounts: "has an initial_size '15Mb' value which is smaller than 1GB" (and the
  // unparseable one); the relative "bar" is our stricter check as above.
  "validate-mounts.toml": [
    'mounts[0].initial_size: "15Mb" is not a size of at least 1GB; use whole GB such as 10 or "10gb"',
    'mounts[1].initial_size: "unparseable" is not a size of at least 1GB; use whole GB such as 10 or "10gb"',
    'mounts[2].destination: "bar" is not valid: an absolute path inside the machine',
  ],
  // validation_test TestConfig_ValidateServices: "Service has no processes set".
  "validate-services.toml": [
    "services[0]: [[services]] has no processes set but [processes] defines 3 group(s) (app, foo, success); set processes = [...]",
  ],
};

describe("every flyctl appconfig fixture is read", () => {
  test("the copy is complete: 41 fixtures, as in flyctl's testdata", () => {
    expect(FIXTURES.length).toBe(41);
  });

  test.each(FIXTURES)("%s", (file) => {
    const r = read(file);
    expect(r.config).toBeDefined();
    const problems = r.ok ? [] : r.problems.map((p) => `${p.path}: ${p.message}`);
    expect(problems).toEqual(NOT_DEPLOYABLE[file] ?? []);
    // And every group of a deployable fixture builds a machine config the Machines API spec accepts.
    if (r.ok) for (const group of processNames(r.config)) expect(specErrors(machine(r.config, group))).toEqual([]);
  });

  test("the --strict reader refuses exactly the fixtures that warn", () => {
    for (const file of FIXTURES) {
      const plain = read(file);
      const strict = parseDeployConfig(readFileSync(join(DIR, file), "utf8"), { path: join(DIR, file), strict: true });
      expect(strict.ok).toBe(plain.ok && plain.warnings.length === 0);
    }
  });
});

const ajv = new Ajv({ strict: false, allErrors: true });
ajv.addSchema(spec as object, "fly");
const validateMachineConfig = ajv.getSchema("fly#/components/schemas/fly.MachineConfig");
/**
 * The spec's fly.HTTPResponseOptions says header values are objects: swag's rendering of fly-go's `map[string]any`.
 * fly-go, flyctl and Fly's docs send `false`, strings and string arrays (header removal / values), so do we; that one
 * known disagreement is left out here.
 */
function specErrors(c: MachineConfig): unknown[] {
  validateMachineConfig?.(c);
  return (validateMachineConfig?.errors ?? []).filter(
    (e) => !/\/http_options\/response\/headers\//.test(e.instancePath),
  );
}

describe("machines_test.go", () => {
  test("TestToMachineConfig (tomachine.toml)", () => {
    const c = machine(load("tomachine.toml"));
    expect(comparable(c)).toEqual({
      env: { FOO: "BAR", PRIMARY_REGION: "mia", FLY_PROCESS_GROUP: "app" },
      services: [
        {
          protocol: "tcp",
          internal_port: 8080,
          ports: [
            { port: 80, handlers: ["http"], force_https: true },
            { port: 443, handlers: ["http", "tls"] },
          ],
        },
      ],
      // flyctl adds fly_flyctl_version; Flightdeck is not flyctl (and adds release/digest metadata, left out above).
      metadata: { fly_platform_version: "v2", fly_process_group: "app" },
      metrics: { port: 9999, path: "/metrics" },
      statics: [
        {
          guest_path: "/guest/path",
          url_prefix: "/url/prefix",
          tigris_bucket: "example-bucket",
          index_document: "index.html",
        },
      ],
      mounts: [{ name: "data", path: "/data" }],
      checks: {
        listening: { port: 8080, type: "tcp" },
        status: { port: 8080, type: "http", interval: "10s", timeout: "1s", path: "/status" },
      },
      stop_config: { timeout: "10s", signal: "SIGTERM" },
      init: { swap_size_mb: 512 },
      restart: { policy: "always" },
      // From [experimental] machine_config = '{"dns": {"nameservers": ["1.2.3.4"]}}'.
      dns: { nameservers: ["1.2.3.4"] },
    });
    // flyctl leaves the guest alone without [[vm]] (keeping what `fly scale vm` set); Flightdeck sends a whole
    // config, so the group gets fly-go's default size.
    expect(c.guest).toEqual({ cpu_kind: "shared", cpus: 1, memory_mb: 256 });
  });

  test("TestToMachineConfig_Experimental (tomachine-experimental.toml), then a [processes] command overrides cmd", () => {
    const cfg = load("tomachine-experimental.toml");
    expect(machine(cfg).init).toEqual({ cmd: ["/call", "me"], entrypoint: ["/IgoFirst"], exec: ["ignore", "others"] });
    const withProcess = { ...cfg, processes: { app: "/override experimental" } };
    expect(machine(withProcess).init).toEqual({
      cmd: ["/override", "experimental"],
      entrypoint: ["/IgoFirst"],
      exec: ["ignore", "others"],
    });
  });

  test("TestToReleaseMachineConfig (tomachine.toml)", () => {
    const c = buildReleaseMachineConfig(load("tomachine.toml"), { image: IMAGE, releaseVersion: 3 });
    const { image: _i, metadata, ...rest } = c;
    expect(rest).toEqual({
      init: { cmd: ["migrate-db"], swap_size_mb: 512 },
      env: { FOO: "BAR", PRIMARY_REGION: "mia", RELEASE_COMMAND: "1", FLY_PROCESS_GROUP: "fly_app_release_command" },
      auto_destroy: true,
      restart: { policy: "no" },
      dns: { skip_registration: true },
      stop_config: { timeout: "10s", signal: "SIGTERM" },
      guest: { cpu_kind: "performance", cpus: 2, memory_mb: 4096 },
    });
    expect(metadata).toEqual({
      fly_platform_version: "v2",
      fly_process_group: "fly_app_release_command",
      fly_release_version: "3",
    });
  });

  test("TestToMachineConfig_multiProcessGroups (tomachine-processgroups.toml)", () => {
    const cfg = load("tomachine-processgroups.toml");
    const cases: [string, Pick<MachineConfig, "init" | "services" | "checks">][] = [
      [
        "app",
        {
          init: { cmd: ["run-nginx"] },
          services: [
            {
              protocol: "tcp",
              internal_port: 8080,
              ports: [
                { port: 80, handlers: ["http"] },
                { port: 443, handlers: ["http", "tls"] },
              ],
            },
            { protocol: "tcp", internal_port: 1111 },
          ],
          checks: { listening: { port: 8080, type: "tcp" } },
        },
      ],
      [
        "vpn",
        {
          init: { cmd: ["run-tailscale"] },
          services: [
            { protocol: "udp", internal_port: 9999 },
            { protocol: "tcp", internal_port: 1111 },
          ],
        },
      ],
      [
        "foo",
        {
          init: { cmd: ["keep", "me", "alive"] },
          services: [{ protocol: "tcp", internal_port: 1111 }],
          checks: { listening: { port: 8080, type: "tcp" } },
        },
      ],
    ];
    for (const [group, want] of cases) {
      const c = machine(cfg, group);
      expect(c.metadata?.fly_process_group).toBe(group);
      expect(c.env?.FLY_PROCESS_GROUP).toBe(group);
      expect({ init: c.init, services: c.services, checks: c.checks } as unknown).toEqual({
        checks: undefined,
        ...want,
      });
    }
  });

  test("TestToMachineConfig_defaultV2flytoml (tomachine-default-for-new-apps.toml)", () => {
    const cfg = load("tomachine-default-for-new-apps.toml");
    expect(comparable(machine(cfg))).toEqual({
      init: {},
      env: { PRIMARY_REGION: "ord", FLY_PROCESS_GROUP: "app" },
      services: [
        {
          protocol: "tcp",
          internal_port: 8080,
          ports: [
            { port: 80, handlers: ["http"], force_https: true },
            { port: 443, handlers: ["http", "tls"] },
          ],
        },
      ],
      metadata: { fly_platform_version: "v2", fly_process_group: "app" },
      checks: { alive: { port: 8080, type: "tcp", interval: "15s", timeout: "2s", grace_period: "5s" } },
    });
    // "A toplevel check without internal port must fail if there is no http service to relate to".
    const { httpService: _h, ...withoutHttp } = cfg;
    expect(groupProblems(withoutHttp).map((p) => p.message)).toEqual([
      "check 'alive' for process group 'app' has no port set and the group has no [http_service] to take it from",
    ]);
  });

  test("TestToReleaseMachineConfig_processGroupsAndMounts (tomachine-mounts.toml)", () => {
    const cfg = load("tomachine-mounts.toml");
    expect(machine(cfg).mounts).toEqual([{ name: "data", path: "/data" }]);
    expect(machine(cfg, "app").mounts).toEqual([{ name: "data", path: "/data" }]);
    expect(machine(cfg, "back").mounts).toEqual([{ name: "trash", path: "/trash" }]);
    expect(machine(cfg, "hola").mounts).toBeUndefined();
  });

  test("TestToMachineConfig_services (tomachine-services.toml)", () => {
    // flyctl's MachineAutostop marshals "stop"/"off" as true/false; we send the spec's string enum (machine-config.ts).
    expect(machine(load("tomachine-services.toml")).services).toEqual([
      {
        protocol: "tcp",
        internal_port: 8080,
        autostart: true,
        autostop: "stop",
        ports: [
          { port: 80, handlers: ["http"], force_https: true },
          { port: 443, handlers: ["http", "tls"] },
        ],
      },
      { protocol: "tcp", internal_port: 1000, autostart: true, autostop: "stop" },
      { protocol: "tcp", internal_port: 1001, autostart: false, autostop: "off" },
      { protocol: "tcp", internal_port: 1002, autostart: false },
      { protocol: "tcp", internal_port: 1003, autostop: "stop" },
      { protocol: "tcp", internal_port: 1004 },
    ]);
  });

  test.each([
    ["app", { cpu_kind: "shared", cpus: 2, memory_mb: 512 }],
    ["worker", { cpu_kind: "shared", cpus: 2, memory_mb: 512 }],
    ["whisper", { cpu_kind: "performance", cpus: 8, memory_mb: 65536, gpu_kind: "a100-pcie-40gb" }],
    ["isolated", { cpu_kind: "shared", cpus: 1, memory_mb: 256, host_dedication_id: "lookma-iamsolo" }],
  ])("TestToMachineConfig_compute (tomachine-compute.toml): %s", (group, guest) => {
    expect(machine(load("tomachine-compute.toml"), group).guest).toEqual(guest);
  });

  test.each([
    // flyctl: nil (guest untouched); Flightdeck: the default size, since it always sends a whole config.
    ["app", { cpu_kind: "shared", cpus: 1, memory_mb: 256 }],
    ["woo", { cpu_kind: "shared", cpus: 1, memory_mb: 256 }],
    ["bar", { cpu_kind: "performance", cpus: 4, memory_mb: 8192 }],
  ])("TestToMachineConfig_compute_none (tomachine-compute-nodefault.toml): %s", (group, guest) => {
    expect(machine(load("tomachine-compute-nodefault.toml"), group).guest).toEqual(guest);
  });

  test.each([
    // flyctl: nil guest (the host_dedication_id applies through the app); Flightdeck: the default size with the
    // top-level host_dedication_id, for the same whole-config reason.
    ["front", { cpu_kind: "shared", cpus: 1, memory_mb: 256, host_dedication_id: "toplevel" }],
    ["back", { cpu_kind: "shared", cpus: 1, memory_mb: 256, host_dedication_id: "specific" }],
    ["other", { cpu_kind: "shared", cpus: 4, memory_mb: 1024, host_dedication_id: "toplevel" }],
  ])("TestToMachineConfig_hostdedicationid (tomachine-hostdedicationid.toml): %s", (group, guest) => {
    expect(machine(load("tomachine-hostdedicationid.toml"), group).guest).toEqual(guest);
  });

  test("TestToConsoleMachineConfig: not built; Flightdeck has no console machine (console_command is read and kept)", () => {
    expect(load("full-reference.toml".replace("full-reference", "tomachine")).consoleCommand).toBeUndefined();
    const r = read("full-reference.toml");
    expect(r.config?.consoleCommand).toBe("/bin/bash");
  });
});

describe("processgroups_test.go TestProcessNames", () => {
  test.each([
    ["processes-one.toml", "web", ["web"]],
    ["processes-multi.toml", "bar", ["bar", "foo", "zzz"]],
    ["processes-multiwithapp.toml", "app", ["aaa", "abc", "app", "ass", "bbb"]],
    ["processes-none.toml", "app", ["app"]],
    ["app-name.toml", "app", ["app"]],
  ])("%s", (file, defaultName, names) => {
    const cfg = load(file);
    expect(defaultProcessName(cfg)).toBe(defaultName);
    expect(processNames(cfg)).toEqual(names);
  });
});

describe("serde_test.go", () => {
  test("app-name, build, image, docker, build-with-args", () => {
    expect(load("app-name.toml").app).toBe("test-app");
    expect(load("build.toml").build).toEqual({ builder: "builder/name" });
    expect(load("image.toml").build).toEqual({ image: "image/name" });
    expect(load("docker.toml").build).toEqual({ dockerfile: "./Dockerfile" });
    expect(load("build-with-args.toml").build.args).toEqual({ A: "B", C: "D" });
  });

  test("services-emptysection: an empty [[services]] is dropped", () => {
    expect(load("services-emptysection.toml").services).toEqual([]);
  });

  test("services-ports: tls_options, http_options and proxy_proto_options reach the machine as written", () => {
    expect(machine(load("services-ports.toml")).services as unknown).toEqual([
      {
        protocol: "tcp",
        internal_port: 8080,
        ports: [
          {
            port: 80,
            tls_options: { alpn: ["h2", "http/1.1"], versions: ["TLSv1.2", "TLSv1.3"] },
            http_options: {
              compress: true,
              response: {
                headers: {
                  "fly-request-id": false,
                  "fly-wasnt-here": "yes, it was",
                  "multi-valued": ["value1", "value2"],
                },
              },
            },
          },
          { port: 82, handlers: ["proxy_proto"], proxy_proto_options: { version: "v2" } },
        ],
      },
    ]);
  });

  test("services-multi: concurrency per service", () => {
    expect(load("services-multi.toml").services.map((s) => s.concurrency)).toEqual([
      { type: "requests", hardLimit: 22, softLimit: 13 },
      { type: "connections", hardLimit: 10, softLimit: 8 },
    ]);
  });

  test("experimental-alt: strings for cmd/exec/entrypoint, kill_timeout and metrics_* moved to the top", () => {
    const cfg = load("experimental-alt.toml");
    expect(cfg.experimental).toEqual({ cmd: ["cmd"], entrypoint: ["entrypoint"], exec: ["exec"] });
    expect(cfg.killTimeoutMs).toBe(3000);
    expect(cfg.metrics).toEqual([{ port: 9000, path: "/foo", processes: [] }]);
  });

  test("mounts-array, format-quirks, env-list", () => {
    expect(load("mounts-array.toml").mounts).toEqual([
      { source: "pg_data", destination: "/data", initialSizeGb: 1, initialSizeSet: false, processes: [] },
    ]);
    const quirks = load("format-quirks.toml");
    expect(quirks.vms[0]?.guest.memoryMb).toBe(512);
    expect(quirks.mounts).toEqual([
      {
        source: "data",
        destination: "/data",
        initialSizeGb: 200,
        initialSizeSet: true,
        snapshotRetention: 10,
        processes: [],
      },
    ]);
    expect(load("env-list.toml").env).toEqual({ FOO: "BAR", TWO: "2", TRUE: "true" });
  });

  test("old-format: stringified ports, old concurrency, boolean autostop, ms check durations, header lists", () => {
    const cfg = load("old-format.toml");
    expect(cfg.env).toEqual({ FOO: "STRING", BAR: "123" });
    expect(cfg.build).toEqual({ buildTarget: "thalayer" });
    expect(cfg.mounts.map((m) => [m.source, m.destination])).toEqual([["data", "/data"]]);
    expect(cfg.metrics).toEqual([{ port: 9999, path: "/metrics", processes: [] }]);
    expect(cfg.processes).toEqual({});
    expect(machine(cfg).services).toEqual([
      {
        internal_port: 8080,
        autostop: "off",
        ports: [{ port: 80, handlers: ["http"] }],
        concurrency: { type: "requests", hard_limit: 23, soft_limit: 12 },
        checks: [
          { type: "tcp", interval: "10s", timeout: "2s" },
          { type: "tcp", interval: "20s", timeout: "3s" },
          {
            type: "http",
            interval: "30s",
            timeout: "4s",
            headers: [{ name: "origin", values: ["http://localhost:8000"] }],
          },
          {
            type: "http",
            interval: "20s",
            timeout: "3s",
            headers: [
              { name: "astring", values: ["string"] },
              { name: "fly-healthcheck", values: ["1"] },
              { name: "metoo", values: ["true"] },
            ],
          },
        ],
      },
    ]);
  });

  test("old-processes: [[processes]] name/command; old-pg-checks: empty headers list", () => {
    const procs = load("old-processes.toml");
    expect(procs.processes).toEqual({ web: "./web", worker: "./worker" });
    expect(procs.app).toBe(""); // flyctl reads it too and asks for -a; our commands ask for app = "..."
    expect(load("old-pg-checks.toml").checks).toEqual({
      pg: { type: "http", port: 5500, path: "/flycheck/pg", processes: [] },
    });
  });

  test("full-reference: the sections flyctl reads, as read", () => {
    const cfg = read("full-reference.toml").config as DeployConfig;
    expect([
      cfg.app,
      cfg.primaryRegion,
      cfg.killSignal,
      cfg.killTimeoutMs,
      cfg.swapSizeMb,
      cfg.consoleCommand,
      cfg.hostDedicationId,
    ]).toEqual(["foo", "sea", "SIGTERM", 3000, 512, "/bin/bash", "06031957"]);
    expect(cfg.experimental).toEqual({ cmd: ["cmd"], entrypoint: ["entrypoint"], exec: ["exec"] });
    expect(cfg.deploy).toMatchObject({
      releaseCommand: "release command",
      releaseCommandTimeoutMs: 180_000,
      maxUnavailable: 0.2,
      releaseCommandVm: { cpuKind: "performance", cpus: 2, memoryMb: 8192 },
    });
    expect(cfg.restarts).toEqual([{ policy: "always", retries: 3, processes: ["web"] }]);
    expect(cfg.metrics).toEqual([
      { port: 9999, path: "/metrics", processes: [] },
      { port: 9998, path: "/metrics", processes: ["web"] },
    ]);
    expect(cfg.httpService).toMatchObject({
      internalPort: 8080,
      forceHttps: true,
      autoStartMachines: false,
      autoStopMachines: "off",
      minMachinesRunning: 0,
      concurrency: { type: "donuts", hardLimit: 10, softLimit: 4 },
      tlsOptions: { alpn: ["h2", "http/1.1"], versions: ["TLSv1.2", "TLSv1.3"], default_self_signed: false },
      httpOptions: { compress: true, idle_timeout: 600 },
    });
    expect(cfg.httpService?.checks).toEqual([
      {
        intervalMs: 81_000,
        timeoutMs: 7000,
        gracePeriodMs: 2000,
        method: "GET",
        path: "/",
        protocol: "https",
        tlsSkipVerify: true,
        tlsServerName: "sni2.com",
        headers: { "My-Custom-Header": "whatever" },
      },
    ]);
    expect(cfg.statics).toEqual([
      {
        guestPath: "/path/to/statics",
        urlPrefix: "/static-assets",
        tigrisBucket: "example-bucket",
        indexDocument: "index.html",
      },
    ]);
    expect(cfg.files.slice(0, 2)).toEqual([
      {
        guestPath: "/path/to/hello.txt",
        rawValueBase64: Buffer.from("aGVsbG8gd29ybGQK").toString("base64"),
        processes: [],
      },
      { guestPath: "/path/to/secret.txt", secretName: "SUPER_SECRET", processes: [] },
    ]);
    expect(cfg.mounts).toEqual([
      {
        source: "data",
        destination: "/data",
        initialSizeGb: 30,
        initialSizeSet: true,
        snapshotRetention: 17,
        scheduledSnapshots: true,
        processes: [],
      },
    ]);
    expect(cfg.vms[0]).toEqual({
      size: "shared-cpu-1x",
      // computeToGuest: preset, then memory ("8gb"), then inline fields (cpu_kind, cpus, memory_mb, gpus, ...).
      guest: {
        cpuKind: "performance",
        cpus: 8,
        memoryMb: 8192,
        gpus: 2,
        gpuKind: "a100-pcie-40gb",
        kernelArgs: ["quiet"],
        hostDedicationId: "isolated-xxx",
      },
      processes: ["app"],
    });
    expect(cfg.processes).toEqual({ web: "run web", task: "task all day" });
    expect(cfg.checks.status).toEqual({
      type: "http",
      port: 2020,
      intervalMs: 10_000,
      timeoutMs: 2000,
      gracePeriodMs: 27_000,
      method: "GET",
      path: "/status",
      protocol: "https",
      tlsSkipVerify: true,
      tlsServerName: "sni3.com",
      headers: { "Content-Type": "application/json", Authorization: "super-duper-secret" },
      processes: [],
    });
    const svc = cfg.services[0];
    expect(svc?.ports).toEqual([
      {
        port: 80,
        startPort: 100,
        endPort: 200,
        handlers: ["https"],
        forceHttps: true,
        httpOptions: { idle_timeout: 600 },
      },
    ]);
    expect(svc?.checks.map((c) => [c.type, c.intervalMs, c.method ?? null])).toEqual([
      ["tcp", 21_000, null],
      ["http", 81_000, "GET"],
      ["http", 33_000, "POST"],
    ]);
  });
});

describe("config_test.go", () => {
  test("BuildStrategies: Docker and buildpack builds are recognised (they need --image here)", () => {
    expect(dockerBuildOf({})).toBeUndefined();
    expect(dockerBuildOf({ image: "nginx" })).toBeUndefined();
    expect(dockerBuildOf({ builder: "heroku/buildpacks:20" })).toBe(
      'buildpacks ([build] builder = "heroku/buildpacks:20")',
    );
    expect(dockerBuildOf({ dockerfile: "my-df", buildTarget: "t" })).toBe(
      'Docker ([build] dockerfile = "my-df", build-target = "t")',
    );
    expect(dockerBuildOf(load("build-with-args.toml").build)).toBe('buildpacks ([build] builder = "builder/name")');
  });

  const svc = (ports: { port: number; handlers: string[] }[], protocol = "tcp") => ({
    protocol,
    processes: [],
    checks: [],
    ports,
  });
  test("TestDetermineIPType", () => {
    expect(ipv4Needed({ services: [svc([{ port: 80, handlers: ["http"] }])] })).toBe("shared");
    expect(ipv4Needed({ services: [svc([{ port: 443, handlers: ["tls", "http"] }])] })).toBe("shared");
    expect(ipv4Needed({ services: [svc([{ port: 443, handlers: ["http", "tls"] }])] })).toBe("shared");
    expect(ipv4Needed({ services: [svc([{ port: 443, handlers: ["tls", "weird"] }])] })).toBe("dedicated");
    expect(ipv4Needed({ services: [svc([{ port: 443, handlers: ["tls"] }])] })).toBe("dedicated");
    expect(ipv4Needed({ services: [svc([{ port: 443, handlers: ["tls", "http"] }], "udp")] })).toBe("dedicated");
  });

  test("TestURL", () => {
    const url = (ports: { port: number; handlers: string[] }[]) => appUrl({ app: "test", services: [svc(ports)] });
    expect(
      appUrl({
        app: "test",
        httpService: { internalPort: 8080, forceHttps: false, processes: [], checks: [] },
        services: [],
      }),
    ).toBe("https://test.fly.dev/");
    expect(
      url([
        { port: 80, handlers: ["http"] },
        { port: 443, handlers: ["http", "tls"] },
      ]),
    ).toBe("https://test.fly.dev/");
    expect(
      url([
        { port: 80, handlers: ["http"] },
        { port: 443, handlers: ["tls"] },
      ]),
    ).toBe("http://test.fly.dev/");
    expect(
      url([
        { port: 80, handlers: ["http"] },
        { port: 3443, handlers: ["tls", "http"] },
      ]),
    ).toBe("http://test.fly.dev/");
    expect(
      url([
        { port: 8080, handlers: ["http"] },
        { port: 3443, handlers: ["tls", "http"] },
      ]),
    ).toBe("https://test.fly.dev:3443/");
    expect(url([{ port: 8080, handlers: ["http"] }])).toBe("http://test.fly.dev:8080/");
    expect(
      url([
        { port: 80, handlers: ["fancy"] },
        { port: 443, handlers: ["foo"] },
      ]),
    ).toBeNull();
  });
});
