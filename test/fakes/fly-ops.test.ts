// The fake Fly API's logs, certificates and exec: stateful, paged, validated against the spec, with the
// variants the real API may answer in (Go omitempty exec answers, dns_requirements without A/AAAA).
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { createFlyClient, createLogsClient, type FlyClient } from "../../lib/fly/index.ts";
import { startFakeFly, type FakeFly } from "./fly-machines.ts";
import { flyFailure } from "../support/fly-errors.ts";

let fly: FakeFly;
let client: FlyClient;

beforeEach(async () => {
  fly = startFakeFly();
  client = createFlyClient({ baseUrl: fly.url, token: fly.token, retries: 0 });
  fly.seedApp("web");
  await client.assignIp("web", { type: "v6" });
  await client.assignIp("web", { type: "shared_v4" });
});
afterEach(() => fly.close());

async function startedMachine(app = "web", env: Record<string, string> = {}) {
  const machine = await client.createMachine(app, { region: "ewr", config: { image: "registry.fly.io/web:1", env } });
  await client.waitMachine(app, machine.id!, { state: "started", timeoutSeconds: 5 });
  return machine.id!;
}

describe("logs", () => {
  test("machine lifecycle lines accumulate; tests append; every line carries machine, region, level", async () => {
    const id = await startedMachine();
    fly.logs.append("web", { machine: id, message: "GET /health 200", provider: "app" });
    const logs = createLogsClient({ baseUrl: fly.url, token: fly.token });
    const page = await logs.getAppLogs("web");
    const messages = page.entries.map((e) => e.message);
    expect(messages[0]).toStartWith("Pulling container image registry.fly.io/web:1");
    expect(messages).toContain("Listening on http://0.0.0.0:3000");
    expect(messages.at(-1)).toBe("GET /health 200");
    for (const entry of page.entries) expect([entry.instance, entry.region, entry.level]).toEqual([id, "ewr", "info"]);
    expect(page.entries.at(-1)!.meta).toMatchObject({ event: { provider: "app" } });
  });

  test("pages follow next_token; an empty page hands the token back; new lines come after it", async () => {
    fly.logs.pageSize = 2;
    for (let i = 1; i <= 5; i++) fly.logs.append("web", { message: `line ${i}`, region: "ewr" });
    const logs = createLogsClient({ baseUrl: fly.url, token: fly.token });
    const seen: string[] = [];
    let token = "";
    for (;;) {
      const page = await logs.getAppLogs("web", { nextToken: token });
      if (page.entries.length === 0) {
        expect(page.nextToken).toBe(token);
        break;
      }
      expect(page.entries.length).toBeLessThanOrEqual(2);
      expect(page.nextToken).not.toBe(token);
      seen.push(...page.entries.map((e) => e.message));
      token = page.nextToken;
    }
    expect(seen).toEqual(["line 1", "line 2", "line 3", "line 4", "line 5"]);
    fly.logs.append("web", { message: "line 6" });
    expect((await logs.getAppLogs("web", { nextToken: token })).entries.map((e) => e.message)).toEqual(["line 6"]);
    // fly-go always sends next_token, empty on the first call.
    expect(fly.calls.find((c) => c.path === "/api/v1/apps/web/logs")!.query).toBe("?next_token=");
  });

  test("instance and region filter; a forged token is a 400; unknown app 404; no token 401", async () => {
    fly.logs.append("web", { message: "a", machine: "m1", region: "ewr" });
    fly.logs.append("web", { message: "b", machine: "m2", region: "ams" });
    const logs = createLogsClient({ baseUrl: fly.url, token: fly.token, retry: { retries: 0 } });
    expect((await logs.getAppLogs("web", { instance: "m2" })).entries.map((e) => e.message)).toEqual(["b"]);
    expect((await logs.getAppLogs("web", { region: "ewr" })).entries.map((e) => e.message)).toEqual(["a"]);
    expect((await flyFailure(logs.getAppLogs("web", { nextToken: "bm90LWEtdG9rZW4" }))).status).toBe(400);
    expect((await flyFailure(logs.getAppLogs("nope"))).status).toBe(404);
    const stranger = createLogsClient({ baseUrl: fly.url, token: "fm2_wrong", retry: { retries: 0 } });
    expect((await flyFailure(stranger.getAppLogs("web"))).status).toBe(401);
  });
});

describe("certificates", () => {
  test("add waits for DNS with A/AAAA from the app's IPs, the CNAME and the ACME challenge; check issues it", async () => {
    const created = await client.createAcmeCertificate("web", "www.example.com");
    expect(created.certificates?.[0]).toMatchObject({ source: "fly", status: "pending_validation", issued: [] });
    const ips = await client.listIpAssignments("web");
    expect(created.dns_requirements?.a).toEqual(ips.filter((ip) => ip.shared).map((ip) => ip.ip!));
    expect(created.dns_requirements?.aaaa).toEqual(ips.filter((ip) => !ip.shared).map((ip) => ip.ip!));
    expect(created.dns_requirements).toMatchObject({
      cname: "web.fly.dev",
      acme_challenge: { name: "_acme-challenge.www.example.com" },
    });
    expect((await client.getCertificate("web", "www.example.com"))?.certificates?.[0]?.status).toBe(
      "pending_validation",
    );

    const checked = await client.checkCertificate("web", "www.example.com");
    expect(checked.certificates?.[0]?.status).toBe("active");
    expect(checked.certificates?.[0]?.issued?.map((c) => c.type)).toEqual(["ecdsa", "rsa"]);
    expect(checked.dns_records?.resolved_addresses).toHaveLength(2);
    expect((await client.getCertificate("web", "www.example.com"))?.configured).toBe(true);
  });

  test("stayPending keeps it pending with a validation error; cname_only leaves A/AAAA out", async () => {
    fly.certificates.stayPending = (host) => host === "stuck.example.com";
    fly.certificates.dnsRequirements = "cname_only";
    const created = await client.createAcmeCertificate("web", "stuck.example.com");
    expect(created.dns_requirements?.a).toBeUndefined();
    for (let i = 0; i < 2; i++) {
      const checked = await client.checkCertificate("web", "stuck.example.com");
      expect(checked.certificates?.[0]?.status).toBe("pending_validation");
      expect(checked.validation_errors?.[0]?.code).toBe("dns_not_configured");
    }
    expect(fly.state.apps.get("web")!.certificates.get("stuck.example.com")!.checks).toBe(2);
  });

  test("duplicates are 422 (here and on another app), bad hostnames 422, unknown fields 400; delete then 404", async () => {
    fly.seedApp("other");
    await client.createAcmeCertificate("web", "example.com");
    expect((await flyFailure(client.createAcmeCertificate("web", "example.com"))).status).toBe(422);
    expect((await flyFailure(client.createAcmeCertificate("other", "example.com"))).apiMessage).toContain(
      "another app",
    );
    expect((await flyFailure(client.createAcmeCertificate("web", "not a host"))).status).toBe(422);
    const raw = await fetch(`${fly.url}/v1/apps/web/certificates/acme`, {
      method: "POST",
      headers: { authorization: `Bearer ${fly.token}`, "content-type": "application/json" },
      body: JSON.stringify({ hostname: "a.example.com", hostnmae: "typo" }),
    });
    expect(raw.status).toBe(400);
    await client.deleteCertificate("web", "example.com");
    expect(await client.getCertificate("web", "example.com")).toBeUndefined();
    expect((await flyFailure(client.checkCertificate("web", "example.com"))).status).toBe(404);
  });
});

describe("exec", () => {
  test("the fake's commands: echo, exit N, env, sh -c with stderr, unknown -> 127 (Go omitempty answers)", async () => {
    const id = await startedMachine("web", { PORT: "3000", APP_ENV: "production" });
    expect(await client.execMachine("web", id, { command: ["echo", "hello", "world"], timeoutSeconds: 5 })).toEqual({
      stdout: "hello world\n",
    });
    expect(await client.execMachine("web", id, { command: ["exit", "3"], timeoutSeconds: 5 })).toEqual({
      exit_code: 3,
    });
    expect((await client.execMachine("web", id, { command: ["env"], timeoutSeconds: 5 })).stdout).toBe(
      "APP_ENV=production\nPORT=3000\n",
    );
    expect(
      await client.execMachine("web", id, {
        command: ["sh", "-c", "echo out; echo err >&2; exit 4"],
        timeoutSeconds: 5,
      }),
    ).toEqual({ stdout: "out\n", stderr: "err\n", exit_code: 4 });
    expect(await client.execMachine("web", id, { command: ["bun", "run", "nothing"], timeoutSeconds: 5 })).toEqual({
      stderr: "sh: 1: bun: not found\n",
      exit_code: 127,
    });
    expect(await client.execMachine("web", id, { command: ["cat"], timeoutSeconds: 5, stdin: "piped" })).toEqual({
      stdout: "piped",
    });
    fly.exec.omitEmpty = false;
    expect(await client.execMachine("web", id, { command: ["true"], timeoutSeconds: 5 })).toEqual({
      exit_code: 0,
      exit_signal: 0,
      stdout: "",
      stderr: "",
    });
    expect(fly.exec.runs.map((r) => r.command[0])).toEqual(["echo", "exit", "env", "sh", "bun", "cat", "true"]);
  });

  test("only a started machine runs commands; a body off the spec is a 400; the deprecated cmd string works", async () => {
    const id = await startedMachine();
    const raw = (body: unknown) =>
      fetch(`${fly.url}/v1/apps/web/machines/${id}/exec`, {
        method: "POST",
        headers: { authorization: `Bearer ${fly.token}`, "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    expect((await raw({ command: "echo hi" })).status).toBe(400);
    expect((await raw({})).status).toBe(400);
    expect(await (await raw({ cmd: "echo legacy" })).json()).toEqual({ stdout: "legacy\n" });
    await client.stopMachine("web", id);
    await client.waitMachine("web", id, { state: "stopped", timeoutSeconds: 5 });
    expect((await flyFailure(client.execMachine("web", id, { command: ["echo"], timeoutSeconds: 5 }))).status).toBe(
      412,
    );
    expect((await flyFailure(client.execMachine("web", "nope", { command: ["echo"], timeoutSeconds: 5 }))).status).toBe(
      404,
    );
  });
});
