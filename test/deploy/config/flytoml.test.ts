import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { formatGoDuration, parseGoDuration } from "../../../deploy/config/durations.ts";
import {
  DeployConfigError,
  formatProblems,
  loadDeployConfig,
  parseDeployConfig,
  splitCommand,
} from "../../../deploy/config/flytoml.ts";
import { suggest } from "../../../deploy/config/config-reader.ts";

const ROOT = join(import.meta.dir, "..", "..", "..");

const BASE = `app = "demo"\nprimary_region = "ewr"\n`;

function problems(toml: string): string[] {
  const r = parseDeployConfig(BASE + toml);
  if (r.ok) throw new Error("expected problems, got a config");
  return r.problems.map((p) => (p.path ? `${p.path}: ${p.message}` : p.message));
}

function warnings(toml: string, opts: { strict?: boolean } = {}): string[] {
  const r = parseDeployConfig(BASE + toml, opts);
  if (!r.ok) throw new Error(formatProblems(r.problems));
  return r.warnings.map((p) => (p.path ? `${p.path}: ${p.message}` : p.message));
}

function config(toml: string) {
  const r = parseDeployConfig(BASE + toml);
  if (!r.ok) throw new Error(formatProblems(r.problems));
  return r.config;
}

describe("the real fly.toml and fly.preview.toml", () => {
  test("production parses clean to the fleet DESIGN.md describes", async () => {
    const r = await loadDeployConfig(join(ROOT, "fly.toml"));
    if (!r.ok) throw new Error(formatProblems(r.problems));
    const c = r.config;
    expect(c.app).toBe("flightdeck");
    expect(c.primaryRegion).toBe("ewr");
    expect(c.killSignal).toBe("SIGTERM");
    expect(c.killTimeoutMs).toBe(30_000);
    expect(c.deploy).toEqual({
      releaseCommand: "bun run migrate",
      strategy: "rolling",
      maxUnavailable: 0.33,
      waitTimeoutMs: 300_000,
      releaseCommandTimeoutMs: 300_000,
    });
    expect(c.env).toEqual({ APP_ENV: "production", PORT: "3000", HOST: "0.0.0.0", MEDIA_DIR: "/app/media" });
    expect(c.httpService).toEqual({
      internalPort: 3000,
      forceHttps: true,
      autoStopMachines: "stop",
      autoStartMachines: true,
      minMachinesRunning: 1,
      concurrency: { type: "requests", softLimit: 200, hardLimit: 250 },
      checks: [{ gracePeriodMs: 10_000, intervalMs: 15_000, timeoutMs: 5_000, method: "GET", path: "/health" }],
      processes: ["app"],
    });
    expect(c.mounts).toEqual([
      { source: "media", destination: "/app/media", initialSizeGb: 1, initialSizeSet: true, processes: [] },
    ]);
    expect(c.vms).toEqual([
      { size: "shared-cpu-1x", guest: { cpuKind: "shared", cpus: 1, memoryMb: 512 }, processes: [] },
    ]);
    expect(c.restarts).toEqual([{ policy: "on-failure", retries: 10, processes: [] }]);
    expect(r.warnings).toEqual([]);
  });

  test("preview parses clean: no volume, one small machine that scales to zero, SQLite on disk", async () => {
    const r = await loadDeployConfig(join(ROOT, "fly.preview.toml"));
    if (!r.ok) throw new Error(formatProblems(r.problems));
    const c = r.config;
    expect(c.primaryRegion).toBe("ewr");
    expect(c.mounts).toEqual([]);
    expect(c.env.APP_ENV).toBe("preview");
    expect(c.env.DATABASE_URL).toStartWith("sqlite:/");
    expect(c.env.MEDIA_DIR).toStartWith("/app/data");
    expect(c.httpService?.minMachinesRunning).toBe(0);
    expect(c.httpService?.autoStopMachines).toBe("suspend");
    expect(c.httpService?.autoStartMachines).toBe(true);
    expect(c.httpService?.forceHttps).toBe(true);
    expect(c.httpService?.checks[0]?.path).toBe("/health");
    expect(c.vms[0]?.guest).toEqual({ cpuKind: "shared", cpus: 1, memoryMb: 256 });
    expect(c.app).not.toBe("flightdeck");
  });

  test("a missing file is a problem, not a crash", async () => {
    const r = await loadDeployConfig(join(ROOT, "no-such-fly.toml"));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.problems[0]?.message).toContain("not found");
  });
});

describe("unknown and misspelt keys warn, as in flyctl; --strict refuses them", () => {
  test.each([
    [
      '[http_service]\ninternal_port = 3000\nauto_stop = "stop"',
      'http_service.auto_stop: unknown key, ignored; did you mean "auto_stop_machines"?',
    ],
    ['primary_regoin = "ewr"', 'primary_regoin: unknown key, ignored; did you mean "primary_region"?'],
    ["[http_services]\ninternal_port = 1", 'http_services: unknown key, ignored; did you mean "http_service"?'],
    ['[deploy]\nrelease_comand = "x"', 'deploy.release_comand: unknown key, ignored; did you mean "release_command"?'],
    ['[[vm]]\ncpu-kind = "shared"', 'vm[0].cpu-kind: unknown key, ignored; did you mean "cpu_kind"?'],
    [
      '[http_service]\ninternal_port = 3000\n[[http_service.checks]]\ngrace = "1s"',
      'http_service.checks[0].grace: unknown key, ignored; did you mean "grace_period"?',
    ],
    [
      '[mounts]\nsource = "m"\ndestination = "/m"\ninital_size = 1',
      'mounts.inital_size: unknown key, ignored; did you mean "initial_size"?',
    ],
    ["zzz = 1", "zzz: unknown key, ignored"],
  ])("%p", (toml, expected) => {
    expect(warnings(toml)).toContain(expected);
    expect(parseDeployConfig(BASE + toml, { strict: true }).ok).toBe(false);
  });

  test("keys flyctl knows that Flightdeck does not act on are accepted with a note", () => {
    expect(warnings("[experimental]\nauto_rollback = true\nprivate_network = true\nsomething_v1 = 1")).toEqual([
      "experimental.auto_rollback: accepted, not used by Flightdeck: Flightdeck always puts back the machines a failed rollout moved",
      "experimental.private_network: accepted, not used by Flightdeck: every Fly app is on its organization's private network (6PN) today",
      "experimental.something_v1: accepted, not used by Flightdeck: an Apps V1 experimental flag; Fly Machines ignore it",
    ]);
    expect(warnings('[build]\nbuilder = "paketobuildpacks/builder:base"\nsettings = { a = 1 }')).toEqual([
      "build.settings: accepted, not used by Flightdeck: buildpack settings apply to flyctl's buildpack builds only",
    ]);
  });

  test("--strict turns every warning into a problem and reads nothing less", () => {
    const r = parseDeployConfig(`${BASE}zzz = 1\n[experimental]\nauto_rollback = true`, { strict: true });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.warnings).toEqual([]);
    expect(formatProblems(r.problems)).toBe(
      "zzz: unknown key, ignored (an error under --strict)\nexperimental.auto_rollback: accepted, not used by Flightdeck: Flightdeck always puts back the machines a failed rollout moved (an error under --strict)",
    );
    expect(r.config?.app).toBe("demo");
  });

  test("process group names are checked where flyctl checks them", () => {
    expect(problems('[http_service]\ninternal_port = 1\nprocesses = ["worker"]')[0]).toBe(
      'http_service.processes: "worker" is not a process group (app); add it to [processes] or remove it here',
    );
    expect(
      problems('[processes]\nweb = "bun run web"\nworker = "bun run work"\n[http_service]\ninternal_port = 1')[0],
    ).toBe(
      "http_service: [http_service] has no processes set but [processes] defines 2 group(s) (web, worker); set processes = [...]",
    );
    expect(warnings('[[mounts]]\nsource = "m"\ndestination = "/m"\nprocesses = ["nope"]')).toEqual([
      'mounts[0].processes: "nope" is not a process group (app); this entry applies to no machine',
    ]);
  });

  test("suggest finds prefixes, typos and -/_ swaps but not unrelated words", () => {
    expect(suggest("auto_stop", ["auto_stop_machines", "force_https"])).toEqual(["auto_stop_machines"]);
    expect(suggest("forse_https", ["auto_stop_machines", "force_https"])).toEqual(["force_https"]);
    expect(suggest("build-target", ["build_target"])).toEqual(["build_target"]);
    expect(suggest("zzz", ["app", "env"])).toEqual([]);
  });
});

describe("types and values", () => {
  test.each([
    ['[http_service]\ninternal_port = "web"', "http_service.internal_port: expected an integer, got a string"],
    ["[http_service]\nforce_https = true", "http_service.internal_port: required: the port the app listens on"],
    ["[http_service]\ninternal_port = 70000", "http_service.internal_port: 70000 is too large (maximum 65535)"],
    [
      '[http_service]\ninternal_port = 1\nauto_stop_machines = "sometimes"',
      'http_service.auto_stop_machines: "sometimes" is not one of "off", "stop", "suspend"',
    ],
    [
      "[http_service]\ninternal_port = 1\n[http_service.concurrency]\nsoft_limit = 300\nhard_limit = 200",
      "http_service.concurrency.soft_limit: 300 is above hard_limit 200",
    ],
    [
      'kill_signal = "SIGSTOP"',
      'kill_signal: "SIGSTOP" is not one of "SIGHUP", "SIGINT", "SIGQUIT", "SIGKILL", "SIGUSR1", "SIGUSR2", "SIGTERM"',
    ],
    [
      'kill_timeout = "soon"',
      'kill_timeout: "soon" is not a duration; use Go syntax such as "10s", "1m30s" or "500ms"',
    ],
    [
      '[deploy]\nstrategy = "rollin"',
      'deploy.strategy: "rollin" is not one of "rolling", "immediate", "bluegreen", "canary"; did you mean "rolling"?',
    ],
    [
      "[deploy]\nwait_timeout = 300",
      'deploy.wait_timeout: give a duration string such as "5m" (flyctl would read the number 300 as nanoseconds)',
    ],
    [
      "[deploy]\nmax_unavailable = 1.5",
      "deploy.max_unavailable: 1.5 must be a fraction between 0 and 1 or a whole number of machines",
    ],
    [
      '[deploy]\nrelease_command = "bun \\"unbalanced"',
      "deploy.release_command: cannot be split into words (unbalanced quotes)",
    ],
    [
      '[deploy]\nstrategy = "canary"\n[mounts]\nsource = "m"\ndestination = "/m"',
      "deploy.strategy: canary cannot be used with [mounts] (flyctl refuses it too); use rolling",
    ],
    [
      '[mounts]\nsource = "Media!"\ndestination = "app/media"',
      'mounts.source: "Media!" is not valid: volume names use lowercase letters, digits and _ (at most 30)',
    ],
    ['[mounts]\nsource = "media"', "mounts.destination: required: the mount path, e.g. /app/media"],
    [
      '[mounts]\nsource = "media"\ndestination = "/m"\ninitial_size = "lots"',
      'mounts.initial_size: "lots" is not a size of at least 1GB; use whole GB such as 10 or "10gb"',
    ],
    [
      '[[mounts]]\nsource = "a"\ndestination = "/a"\n[[mounts]]\nsource = "b"\ndestination = "/b"',
      "mounts: group 'app' has more than one [[mounts]] section defined (a machine has one volume)",
    ],
    [
      '[[vm]]\nsize = "shared-cpu-3x"',
      'vm[0].size: "shared-cpu-3x" is not one of "shared-cpu-1x", "shared-cpu-2x", "shared-cpu-4x", "shared-cpu-6x", "shared-cpu-8x", "performance-1x", "performance-2x", "performance-4x", "performance-6x", "performance-8x", "performance-10x", "performance-12x", "performance-14x", "performance-16x", "a100-40gb", "a100-80gb", "l40s", "a10"; did you mean "shared-cpu-1x"?',
    ],
    ['[[vm]]\nmemory = "300mb"', "vm[0]: memory 300 MB is not a multiple of 256 MB"],
    ['[[vm]]\nmemory = "4gb"', "vm[0]: 1 shared CPU(s) need between 256 and 2048 MB of memory, got 4096 MB"],
    [
      '[[restart]]\npolicy = "sometimes"',
      'restart[0].policy: "sometimes" is not one of "always", "never", "on-failure"',
    ],
    ["[env]\nA = { b = 1 }", "env.A: expected a string, number or boolean"],
    [
      '[env]\n"MY VAR" = "x"',
      'env."MY VAR": environment variable names use letters, digits and _ and do not start with a digit',
    ],
    ["[checks.alive]\nport = 3000", 'checks.alive.type: required: "http" or "tcp"'],
    [
      '[checks.alive]\ntype = "http"\ninterval = "1s"\ntimeout = "2m"',
      "checks.alive.interval: must be at least 2s (the Machines API minimum)",
    ],
    [
      '[checks.alive]\ntype = "tcp"',
      "checks.alive.port: check 'alive' for process group 'app' has no port set and the group has no [http_service] to take it from",
    ],
    [
      '[http_service]\ninternal_port = 1\n[[http_service.checks]]\npath = "health"',
      'http_service.checks[0].path: "health" is not valid: must start with /',
    ],
    ["[metrics]\nport = 9091", "metrics.path: required: the metrics path, e.g. /metrics"],
  ])("%p", (toml, expected) => {
    expect(problems(toml)).toContain(expected);
  });

  test("app is checked; a file without app or primary_region is still read (flyctl reads both)", () => {
    const r = parseDeployConfig('app = "Bad_Name"');
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(formatProblems(r.problems)).toBe(
      'app: "Bad_Name" is not valid: Fly app names use lowercase letters, digits and dashes',
    );
    const bare = parseDeployConfig("[env]\nA = 1");
    expect(bare.ok).toBe(true);
    if (bare.ok) expect([bare.config.app, bare.config.primaryRegion]).toEqual(["", undefined]);
  });

  test("app_name is a legacy alias of app, with a warning", () => {
    const r = parseDeployConfig('app_name = "legacy-app"');
    expect(r.ok && r.config.app).toBe("legacy-app");
    expect(r.warnings).toEqual([{ path: "app_name", message: 'legacy key; write app = "legacy-app" instead' }]);
    const both = parseDeployConfig('app = "new"\napp_name = "old"');
    expect(both.ok && both.config.app).toBe("new");
    expect(both.warnings[0]?.message).toBe("legacy alias of app, ignored because app is set");
  });

  test("every problem is reported at once; warnings alongside", () => {
    const r = parseDeployConfig(
      `${BASE}kill_signal = "NOPE"\nbogus = 1\n[http_service]\ninternal_port = "x"\nauto_stop = true\n[[vm]]\nsize = "huge"`,
    );
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.problems.length).toBe(3);
    expect(r.warnings.length).toBe(2);
  });

  test("invalid TOML is one problem naming the file", () => {
    const r = parseDeployConfig("app = ", { path: "fly.toml" });
    expect(r.ok).toBe(false);
    // With its place (deploy/config/toml-syntax.ts): file:line:column, then the line and a caret.
    if (!r.ok) expect(r.problems[0]?.message).toStartWith("fly.toml:1:1: not valid TOML: Missing value after '='");
  });

  test("DeployConfigError carries every problem and a code", () => {
    const e = new DeployConfigError("fly.toml", [
      { path: "a", message: "b" },
      { path: "", message: "c" },
    ]);
    expect(e.code).toBe("deploy_config_invalid");
    expect(e.message).toBe("fly.toml has 2 problem(s):\na: b\nc");
  });
});

describe("flyctl quirks", () => {
  test("integer kill_timeout is seconds; strings are Go durations", () => {
    expect(config("kill_timeout = 5").killTimeoutMs).toBe(5000);
    expect(config('kill_timeout = "1m30s"').killTimeoutMs).toBe(90_000);
  });

  test("integer check interval/timeout/grace_period are milliseconds", () => {
    const c = config(
      '[http_service]\ninternal_port = 8080\n[[http_service.checks]]\ninterval = 15000\ntimeout = 2000\ngrace_period = "500ms"',
    );
    expect(c.httpService?.checks[0]).toEqual({ intervalMs: 15_000, timeoutMs: 2000, gracePeriodMs: 500 });
  });

  test("auto_stop_machines accepts the legacy booleans", () => {
    expect(config("[http_service]\ninternal_port = 1\nauto_stop_machines = true").httpService?.autoStopMachines).toBe(
      "stop",
    );
    expect(config("[http_service]\ninternal_port = 1\nauto_stop_machines = false").httpService?.autoStopMachines).toBe(
      "off",
    );
    expect(
      config('[http_service]\ninternal_port = 1\nauto_stop_machines = "suspend"').httpService?.autoStopMachines,
    ).toBe("suspend");
  });

  test("[env] values are stringified and [[env]] tables merged", () => {
    expect(config('[[env]]\nA = 1\n[[env]]\nB = true\nC = "x"').env).toEqual({ A: "1", B: "true", C: "x" });
  });

  test("[vm] and [[vm]], [mounts] and [[mounts]] mean the same; memory strings are binary units", () => {
    expect(config('[vm]\nsize = "shared-cpu-2x"').vms).toEqual([
      { size: "shared-cpu-2x", guest: { cpuKind: "shared", cpus: 2, memoryMb: 512 }, processes: [] },
    ]);
    expect(config('[[vm]]\nmemory = "1gb"\ncpus = 2').vms[0]?.guest).toEqual({
      cpuKind: "shared",
      cpus: 2,
      memoryMb: 1024,
    });
    expect(config("[[vm]]\nmemory = 768").vms[0]?.guest.memoryMb).toBe(768);
    expect(config('[[vm]]\nsize = "performance-1x"\nmemory_mb = 4096').vms[0]?.guest).toEqual({
      cpuKind: "performance",
      cpus: 1,
      memoryMb: 4096,
    });
    expect(config('[[mounts]]\nsource = "data"\ndestination = "/data"\ninitial_size = 10').mounts).toEqual([
      { source: "data", destination: "/data", initialSizeGb: 10, initialSizeSet: true, processes: [] },
    ]);
    expect(config('[mount]\nsource = "data"\ndestination = "/data"').mounts[0]?.source).toBe("data");
    expect(config('[[compute]]\nsize = "a100-40gb"').vms[0]?.guest).toEqual({
      cpuKind: "performance",
      cpus: 8,
      memoryMb: 32768,
      gpuKind: "a100-pcie-40gb",
      gpus: 1,
    });
  });

  test("top-level check methods are upper-cased (service check methods are not)", () => {
    const c = config(
      '[http_service]\ninternal_port = 1\n[[http_service.checks]]\nmethod = "get"\n[checks.alive]\ntype = "http"\nmethod = "get"\npath = "/health"',
    );
    expect(c.httpService?.checks[0]?.method).toBe("get");
    expect(c.checks.alive).toEqual({ type: "http", method: "GET", path: "/health", processes: [] });
  });

  test("restart policy never, metrics and build image", () => {
    const c = config(
      '[build]\nimage = "registry.fly.io/demo:1"\n[[restart]]\npolicy = "never"\n[metrics]\nport = 9091\npath = "/metrics"',
    );
    expect(c.build).toEqual({ image: "registry.fly.io/demo:1" });
    expect(c.restarts).toEqual([{ policy: "never", processes: [] }]);
    expect(c.metrics).toEqual([{ port: 9091, path: "/metrics", processes: [] }]);
  });

  test("deploy defaults follow flyctl", () => {
    expect(config("").deploy).toEqual({
      strategy: "rolling",
      maxUnavailable: 0.33,
      waitTimeoutMs: 300_000,
      releaseCommandTimeoutMs: 300_000,
    });
  });
});

describe("Go durations", () => {
  test.each([
    ["10s", 10_000],
    ["1m30s", 90_000],
    ["500ms", 500],
    ["1h", 3_600_000],
    ["1.5s", 1500],
    ["250us", 0.25],
    ["0", 0],
  ])("parse %p", (text, ms) => expect(parseGoDuration(text)).toBe(ms));

  test.each(["", "10", "-1s", "1d", "s", "1.s.5"])("refuse %p", (text) => expect(parseGoDuration(text)).toBeNull());

  test.each([
    [10_000, "10s"],
    [300_000, "5m0s"],
    [90_000, "1m30s"],
    [3_600_000, "1h0m0s"],
    [500, "500ms"],
    [1500, "1.5s"],
    [0, "0s"],
    [0.25, "250µs"],
  ])("format %p as time.Duration.String()", (ms, text) => expect(formatGoDuration(ms)).toBe(text));
});

describe("splitCommand (google/shlex)", () => {
  test.each([
    ["bun run migrate", ["bun", "run", "migrate"]],
    ["  sh -c 'echo a b'  ", ["sh", "-c", "echo a b"]],
    ['echo "a \\"b\\""', ["echo", 'a "b"']],
    ["a\\ b c", ["a b", "c"]],
    ["run # a comment", ["run"]],
  ])("%p", (cmd, words) => expect(splitCommand(cmd)).toEqual(words));

  test("unbalanced quotes are refused", () => expect(splitCommand("echo 'oops")).toBeNull());
});

describe("the fly.toml `fly launch` wrote before mid-2023 (Apps V1 shape)", () => {
  const V1 = `app = "aged-sunset-8082"
kill_signal = "SIGINT"
kill_timeout = 5
processes = []

[env]
  PORT = 8080

[experimental]
  allowed_public_ports = []
  auto_rollback = true

[[services]]
  http_checks = []
  internal_port = 8080
  processes = ["app"]
  protocol = "tcp"
  script_checks = []
  [services.concurrency]
    hard_limit = 25
    soft_limit = 20
    type = "connections"

  [[services.ports]]
    force_https = true
    handlers = ["http"]
    port = 80

  [[services.ports]]
    handlers = ["tls", "http"]
    port = 443

  [[services.tcp_checks]]
    grace_period = "1s"
    interval = "15s"
    restart_limit = 0
    timeout = "2s"
`;

  test("is read with notes, no problem, and maps to one tcp service with a tcp check", () => {
    const r = parseDeployConfig(V1);
    if (!r.ok) throw new Error(formatProblems(r.problems));
    expect(r.warnings.map((w) => w.path)).toEqual([
      "experimental.allowed_public_ports",
      "experimental.auto_rollback",
      "services[0].script_checks",
      "services[0].tcp_checks[0].restart_limit",
    ]);
    expect(r.config.processes).toEqual({});
    expect(r.config.primaryRegion).toBeUndefined();
    expect(r.config.services).toEqual([
      {
        protocol: "tcp",
        internalPort: 8080,
        processes: ["app"],
        concurrency: { type: "connections", hardLimit: 25, softLimit: 20 },
        ports: [
          { port: 80, handlers: ["http"], forceHttps: true },
          { port: 443, handlers: ["tls", "http"] },
        ],
        checks: [{ type: "tcp", gracePeriodMs: 1000, intervalMs: 15_000, timeoutMs: 2000 }],
      },
    ]);
  });
});
