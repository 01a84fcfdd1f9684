/**
 * Golden tests for the field diff (issue 21): two fly.toml files -> the machine configs buildMachineConfig makes ->
 * the changes as data and as text, compared exactly.
 *
 * @module
 */
import { describe, expect, test } from "bun:test";
import { type DeployConfig, formatProblems, parseDeployConfig } from "../../../deploy/config/flytoml.ts";
import { buildMachineConfig, type MachineConfig } from "../../../deploy/machine/machine-config.ts";
import { diffMachineConfigs, imageOnly } from "../../../deploy/plan/diff.ts";
import { formatChangeSets } from "../../../deploy/plan/diff-format.ts";
import { collapseChanges } from "../../../deploy/plan/explain.ts";

const IMAGE_A = "registry.fly.io/demo:deployment-a";
const IMAGE_B = "registry.fly.io/demo:deployment-b";

const BASE = `
app = "demo"
primary_region = "ewr"
[env]
  LOG_LEVEL = "info"
[http_service]
  internal_port = 8080
  force_https = true
  [[http_service.checks]]
    interval = "15s"
    timeout = "5s"
    method = "GET"
    path = "/health"
[[vm]]
  memory = "512mb"
  cpu_kind = "shared"
  cpus = 1
`;

function parse(toml: string): DeployConfig {
  const r = parseDeployConfig(toml);
  if (!r.ok) throw new Error(formatProblems(r.problems));
  return r.config;
}

function config(toml: string, image = IMAGE_A, releaseVersion = 1): MachineConfig {
  return buildMachineConfig(parse(toml), { image, releaseVersion, appVersion: image.split(":")[1] });
}

/** Five machines in ewr getting the same change, as explainPlan collapses them. */
function text(before: MachineConfig, after: MachineConfig): string {
  const changes = diffMachineConfigs(before, after);
  const updates = ["m1", "m2", "m3", "m4", "m5"].map((machineId) => ({ machineId, region: "ewr", changes }));
  return formatChangeSets(collapseChanges(updates)).join("\n");
}

describe("field diff", () => {
  test("env: one added, one changed, one removed, with names and values", () => {
    const before = config(BASE.replace(`LOG_LEVEL = "info"`, `LOG_LEVEL = "info"\n  OLD = "x"`));
    const after = config(BASE.replace(`LOG_LEVEL = "info"`, `LOG_LEVEL = "debug"\n  FEATURE = "on"`));
    expect(diffMachineConfigs(before, after)).toEqual([
      { path: "env.FEATURE", before: null, after: "on" },
      { path: "env.LOG_LEVEL", before: "info", after: "debug" },
      { path: "env.OLD", before: "x", after: null },
    ]);
    expect(text(before, after)).toBe(
      [
        "  5 machines in ewr (m1, m2, m3, m4, m5):",
        '    env.FEATURE: added "on"',
        '    env.LOG_LEVEL: "info" -> "debug"',
        '    env.OLD: removed (was "x")',
      ].join("\n"),
    );
  });

  test("memory 512mb -> 1gb is guest.memory_mb", () => {
    const before = config(BASE);
    const after = config(BASE.replace(`memory = "512mb"`, `memory = "1gb"`));
    expect(diffMachineConfigs(before, after)).toEqual([{ path: "guest.memory_mb", before: 512, after: 1024 }]);
    expect(text(before, after)).toBe("  5 machines in ewr (m1, m2, m3, m4, m5):\n    guest.memory_mb: 512 -> 1024");
  });

  test("a check's path and interval", () => {
    const before = config(BASE);
    const after = config(BASE.replace(`path = "/health"`, `path = "/ready"`).replace(`"15s"`, `"30s"`));
    expect(diffMachineConfigs(before, after)).toEqual([
      { path: "services[0].checks[0].interval", before: "15s", after: "30s" },
      { path: "services[0].checks[0].path", before: "/health", after: "/ready" },
    ]);
    expect(text(before, after)).toBe(
      [
        "  5 machines in ewr (m1, m2, m3, m4, m5):",
        '    services[0].checks[0].interval: "15s" -> "30s"',
        '    services[0].checks[0].path: "/health" -> "/ready"',
      ].join("\n"),
    );
  });

  test("a new service port is one change carrying the whole port", () => {
    const extra = `
[[services]]
  internal_port = 9000
  protocol = "tcp"
  [[services.ports]]
    port = 9000
    handlers = ["tls"]
`;
    const before = config(`${BASE}${extra}`);
    const after = config(`${BASE}${extra}  [[services.ports]]\n    port = 9443\n    handlers = ["tls", "http"]\n`);
    expect(diffMachineConfigs(before, after)).toEqual([
      { path: "services[1].ports[1]", before: null, after: { port: 9443, handlers: ["tls", "http"] } },
    ]);
    expect(text(before, after)).toBe(
      '  5 machines in ewr (m1, m2, m3, m4, m5):\n    services[1].ports[1]: added {"port":9443,"handlers":["tls","http"]}',
    );
  });

  test("an image-only change reads as an image change (APP_VERSION follows the image)", () => {
    const before = config(BASE, IMAGE_A, 1);
    const after = config(BASE, IMAGE_B, 2);
    const changes = diffMachineConfigs(before, after);
    expect(changes).toEqual([
      { path: "image", before: IMAGE_A, after: IMAGE_B },
      { path: "env.APP_VERSION", before: "deployment-a", after: "deployment-b" },
    ]);
    expect(imageOnly(changes)).toBe(true);
    expect(text(before, after)).toBe(`  5 machines in ewr (m1, m2, m3, m4, m5): image ${IMAGE_A} -> ${IMAGE_B}`);
  });

  test("nothing: a new release version (bookkeeping metadata) is no change", () => {
    const before = config(BASE, IMAGE_A, 1);
    const after = config(BASE, IMAGE_A, 7);
    expect(before.metadata?.fly_release_version).not.toBe(after.metadata?.fly_release_version);
    expect(diffMachineConfigs(before, after)).toEqual([]);
    expect(formatChangeSets(collapseChanges([]))).toEqual([]);
  });

  test("the live config's boolean autostop equals our string form; volume IDs are not a change", () => {
    const toml = `${BASE.replace("force_https = true", `force_https = true\n  auto_stop_machines = "stop"`)}
[mounts]
  source = "data"
  destination = "/data"
`;
    const after = config(toml);
    // As the Machines API returns it (fly-go MachineAutostop.MarshalJSON sends booleans): JSON, not our type.
    const live = JSON.parse(JSON.stringify(after).replace('"autostop":"stop"', '"autostop":true')) as MachineConfig;
    expect(JSON.stringify(live)).toContain('"autostop":true');
    live.mounts![0]!.volume = "vol_123";
    expect(diffMachineConfigs(live, after)).toEqual([]);
  });

  test("a file's content is never shown, its secret name is", () => {
    const before = config(`${BASE}\n[[files]]\n  guest_path = "/etc/a"\n  raw_value = "c2VjcmV0LXRva2Vu"\n`);
    const after = config(`${BASE}\n[[files]]\n  guest_path = "/etc/a"\n  secret_name = "API_TOKEN"\n`);
    const changes = diffMachineConfigs(before, after);
    expect(changes).toEqual([
      { path: "files[0].raw_value", before: "(content changed)", after: null },
      { path: "files[0].secret_name", before: null, after: "API_TOKEN" },
    ]);
    expect(JSON.stringify(changes)).not.toContain("c2VjcmV0");
  });

  test("machines with different changes or regions are not collapsed together", () => {
    const a = diffMachineConfigs(config(BASE), config(BASE.replace(`memory = "512mb"`, `memory = "1gb"`)));
    const sets = collapseChanges([
      { machineId: "m1", region: "ewr", changes: a },
      { machineId: "m2", region: "ewr", changes: a },
      { machineId: "m3", region: "fra", changes: a },
      { machineId: "m4", region: "ewr", changes: [] },
    ]);
    expect(formatChangeSets(sets).join("\n")).toBe(
      [
        "  2 machines in ewr (m1, m2):",
        "    guest.memory_mb: 512 -> 1024",
        "  1 machine in fra (m3):",
        "    guest.memory_mb: 512 -> 1024",
        "  1 machine in ewr (m4): no config field changes (see the reasons above: secrets or a relaunch)",
      ].join("\n"),
    );
  });
});
