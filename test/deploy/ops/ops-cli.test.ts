// `logs`, `certs` and `exec` as a user runs them: real `bun deploy/run.ts` processes against the fake Fly API
// (Machines API and the logs endpoint on the same fake, via FLY_FLAPS_BASE_URL and FLY_API_BASE_URL).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { createFlyClient, type FlyClient } from "../../../lib/fly/client.ts";
import { startFakeFly, type FakeFly } from "../../fakes/fly-machines.ts";

const ROOT = join(import.meta.dir, "..", "..", "..");
const APP = "flightdeck";

let fly: FakeFly;
let client: FlyClient;
let configPath: string;
let ewr: string;
let ams: string;

beforeAll(async () => {
  fly = startFakeFly();
  client = createFlyClient({ baseUrl: fly.url, token: fly.token, retries: 0 });
  configPath = join(mkdtempSync(join(tmpdir(), "flightdeck-ops-")), "fly.toml");
  writeFileSync(configPath, await Bun.file(join(ROOT, "fly.toml")).text());
  await client.createApp({ name: APP, org_slug: "personal" });
  await client.assignIp(APP, { type: "v6" });
  await client.assignIp(APP, { type: "shared_v4" });
  const create = async (region: string) => {
    const m = await client.createMachine(APP, {
      region,
      config: {
        image: "registry.fly.io/flightdeck:1",
        metadata: { fly_process_group: "app", fly_platform_version: "v2" },
      },
    });
    await client.waitMachine(APP, m.id!, { state: "started", timeoutSeconds: 5 });
    return m.id!;
  };
  ewr = await create("ewr");
  ams = await create("ams");
});
afterAll(() => fly.close());

function env(extra: Record<string, string> = {}): Record<string, string> {
  return {
    ...(process.env as Record<string, string>),
    FLY_API_TOKEN: fly.token,
    FLY_FLAPS_BASE_URL: fly.url,
    FLY_API_BASE_URL: fly.url,
    GITHUB_ACTIONS: "false",
    ...extra,
  };
}

async function cli(args: string[], extraEnv: Record<string, string> = {}) {
  const proc = Bun.spawn(["bun", "deploy/run.ts", ...args], {
    cwd: ROOT,
    env: env(extraEnv),
    stdout: "pipe",
    stderr: "pipe",
    stdin: "ignore",
  });
  const [out, err, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  expect(out + err).not.toContain(fly.token);
  return { code, out, err };
}

const cfg = () => ["--config", configPath];

describe("logs", () => {
  test("prints one line per entry: time, region, machine, level, message; --machine and --region filter", async () => {
    fly.logs.append(APP, { machine: ewr, message: "GET /health 200 in 2ms" });
    fly.logs.append(APP, { machine: ams, message: "multi\nline\u001b[31m", level: "warn" });
    const r = await cli(["logs", ...cfg()]);
    expect(r.code).toBe(0);
    const lines = r.out.trimEnd().split("\n");
    expect(lines.length).toBe(fly.logs.of(APP).length);
    expect(lines).toContainEqual(
      expect.stringMatching(new RegExp(`^\\d{4}-\\d\\d-\\d\\dT\\S+ ewr ${ewr} info  GET /health 200 in 2ms$`)),
    );
    // One entry stays one line, and a log line cannot send escape sequences to the terminal.
    expect(lines).toContain(`${fly.logs.of(APP).at(-1)!.timestamp} ams ${ams} warn  multi\\nline\\x1b[31m`);

    const onlyAms = await cli(["logs", ...cfg(), "--machine", ams]);
    expect(
      onlyAms.out
        .trimEnd()
        .split("\n")
        .every((line) => line.includes(` ams ${ams} `)),
    ).toBe(true);
    const nowhere = await cli(["logs", ...cfg(), "--region", "syd"]);
    expect([nowhere.code, nowhere.out]).toEqual([0, ""]);
    expect(nowhere.err).toContain("no log lines");
  });

  test("--json is NDJSON: one object per entry, machine named as the flag names it", async () => {
    const r = await cli(["logs", ...cfg(), "--json", "--machine", ewr]);
    expect(r.code).toBe(0);
    const objects = r.out
      .trimEnd()
      .split("\n")
      .map((line) => JSON.parse(line));
    expect(objects.length).toBe(fly.logs.of(APP).filter((e) => e.instance === ewr).length);
    for (const o of objects)
      expect(Object.keys(o).sort()).toEqual(["id", "level", "machine", "message", "meta", "region", "timestamp"]);
    expect(objects.map((o) => o.machine)).toEqual(objects.map(() => ewr));
  });

  test("--follow prints new lines as they arrive and exits 0 on Ctrl-C", async () => {
    const proc = Bun.spawn(["bun", "deploy/run.ts", "logs", ...cfg(), "--follow"], {
      cwd: ROOT,
      env: env(),
      stdout: "pipe",
      stderr: "pipe",
    });
    const reader = proc.stdout.getReader();
    let seen = "";
    const readUntil = async (text: string) => {
      while (!seen.includes(text)) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`stdout ended before "${text}": ${seen}`);
        seen += new TextDecoder().decode(value);
      }
    };
    await readUntil("GET /health 200 in 2ms");
    fly.logs.append(APP, { machine: ewr, message: "arrived while following" });
    await readUntil("arrived while following");
    fly.logs.append(APP, { machine: ams, message: "and another" });
    await readUntil("and another");
    proc.kill("SIGINT");
    expect(await proc.exited).toBe(0);
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read())
      seen += new TextDecoder().decode(chunk.value);
    expect(seen.split("arrived while following").length).toBe(2);
    expect(await new Response(proc.stderr).text()).not.toContain("error:");
  });

  test("bad flags are usage errors (exit 2) before any call; no token is exit 2; an unknown app exit 2", async () => {
    const before = fly.calls.length;
    const results = await Promise.all([
      cli(["logs", ...cfg(), "--region", "EWR1"]),
      cli(["logs", ...cfg(), "--machine", "a;b"]),
      cli(["logs", "--app", "Not_An_App"]),
      cli(["logs", ...cfg(), "--follow=yes"]),
      cli(["logs", ...cfg()], { FLY_API_TOKEN: "" }),
    ]);
    for (const r of results) {
      expect(r.code).toBe(2);
      expect(r.err).toStartWith("error: ");
    }
    expect(results[4]!.err).toContain("FLY_API_TOKEN");
    expect(fly.calls.length).toBe(before);
    // Deploy tokens can be refused log access (flyctl-behaviours.md): exit 1 with what to use instead.
    const refused = await cli(["logs", ...cfg()], { FLY_API_TOKEN: "fm2_not_this_one" });
    expect(refused.code).toBe(1);
    expect(refused.err).toContain("organization token from the Fly dashboard");
    const missing = await cli(["logs", "--app", "no-such-app"]);
    expect(missing.code).toBe(2);
    expect(missing.err).toContain("no-such-app does not exist");
  });
});

describe("certs", () => {
  test("add a subdomain: the CNAME (or A/AAAA), the ACME challenge and the status; check issues it; show", async () => {
    const [v6, v4] = (await client.listIpAssignments(APP)).map((ip) => ip.ip!);
    let r = await cli(["certs", "add", "WWW.Example.com", ...cfg()]);
    expect(r.code).toBe(0);
    expect(r.out).toContain("certificate for www.example.com: not issued yet");
    expect(r.out).toContain("CNAME  www.example.com  ->  flightdeck.fly.dev");
    expect(r.out).toContain(`A      www.example.com  ->  ${v4}`);
    expect(r.out).toContain(`AAAA   www.example.com  ->  ${v6}`);
    expect(r.out).toContain("CNAME  _acme-challenge.www.example.com  ->  www.example.com.");
    expect(r.out).toContain("bun deploy/run.ts certs check www.example.com");
    expect(fly.state.apps.get(APP)!.certificates.get("www.example.com")!.state).toBe("pending");

    // Re-running add changes nothing and shows the same certificate.
    const posts = fly.mutatingCalls().length;
    r = await cli(["certs", "add", "www.example.com", ...cfg(), "--json"]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ hostname: "www.example.com", created: false, issued: false });
    expect(fly.mutatingCalls().length).toBe(posts);

    r = await cli(["certs", "check", "www.example.com", ...cfg()]);
    expect(r.code).toBe(0);
    expect(r.out).toContain("certificate for www.example.com: issued");
    expect(r.out).toContain("ecdsa from lets_encrypt");
    r = await cli(["certs", "show", "www.example.com", ...cfg(), "--json"]);
    expect(JSON.parse(r.out)).toMatchObject({ issued: true, status: "Ready" });
  });

  test("an apex gets A and AAAA only (no CNAME at the apex), taken from the app's IPs when Fly leaves them out", async () => {
    fly.certificates.dnsRequirements = "cname_only";
    const [v6, v4] = (await client.listIpAssignments(APP)).map((ip) => ip.ip!);
    const r = await cli(["certs", "add", "example.co.uk", ...cfg(), "--json"]);
    fly.certificates.dnsRequirements = "full";
    expect(r.code).toBe(0);
    const { dns } = JSON.parse(r.out);
    expect(dns).toMatchObject({ apex: true, alternative: [] });
    expect(dns.routing).toEqual([
      { type: "A", name: "example.co.uk", value: v4 },
      { type: "AAAA", name: "example.co.uk", value: v6 },
    ]);
  });

  test("check while DNS is not in place exits 1 and says what to do; it issues once DNS is right", async () => {
    fly.certificates.stayPending = true;
    await cli(["certs", "add", "api.example.com", ...cfg()]);
    let r = await cli(["certs", "check", "api.example.com", ...cfg(), "--json"]);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.out)).toMatchObject({ issued: false, error: { code: "certificate_pending", exitCode: 1 } });
    expect(r.err).toContain("not issued yet");
    fly.certificates.stayPending = false;
    r = await cli(["certs", "check", "api.example.com", ...cfg()]);
    expect(r.code).toBe(0);
  });

  test("remove needs --yes, re-reads that it is gone, and is idempotent", async () => {
    await cli(["certs", "add", "old.example.com", ...cfg()]);
    let r = await cli(["certs", "remove", "old.example.com", ...cfg()]);
    expect(r.code).toBe(2);
    expect(r.err).toContain("--yes");
    expect(fly.state.apps.get(APP)!.certificates.has("old.example.com")).toBe(true);
    r = await cli(["certs", "remove", "old.example.com", "--yes", ...cfg(), "--json"]);
    expect([r.code, JSON.parse(r.out).removed]).toEqual([0, true]);
    expect(fly.state.apps.get(APP)!.certificates.has("old.example.com")).toBe(false);
    r = await cli(["certs", "remove", "old.example.com", "--yes", ...cfg(), "--json"]);
    expect([r.code, JSON.parse(r.out).removed]).toEqual([0, false]);
  });

  test("bad hostnames and arguments are usage errors (exit 2) and reach no certificate endpoint", async () => {
    const before = fly.calls.length;
    const bad = [
      "https://example.com",
      "example.com/path",
      "localhost",
      "1.2.3.4",
      "flightdeck.fly.dev",
      "-bad.example.com",
      "a..example.com",
      "com",
      `${"x".repeat(64)}.example.com`,
    ];
    const results = await Promise.all([
      ...bad.map((host) => cli(["certs", "add", host, ...cfg()])),
      cli(["certs", "add", ...cfg()]),
      cli(["certs", "show", "a.example.com", "b.example.com", ...cfg()]),
      cli(["certs", "renew", "a.example.com", ...cfg()]),
      cli(["certs", "show", "a.example.com", "--yes", ...cfg()]),
    ]);
    for (const r of results) {
      expect({ code: r.code, err: r.err.split("\n")[0] }).toEqual({ code: 2, err: expect.stringMatching(/^error: /) });
    }
    expect(fly.calls.slice(before)).toEqual([]);
    const missing = await cli(["certs", "show", "nothing.example.com", ...cfg()]);
    expect(missing.code).toBe(2);
    expect(missing.err).toContain("certs add nothing.example.com");
  });
});

describe("exec", () => {
  test("runs on a started machine of the primary region, prints its output to the matching streams, exits with its code", async () => {
    let r = await cli(["exec", ...cfg(), "--", "echo", "hello", "--not-our-flag"]);
    expect([r.code, r.out]).toEqual([0, "hello --not-our-flag\n"]);
    expect(fly.exec.runs.at(-1)).toEqual({ machine: ewr, command: ["echo", "hello", "--not-our-flag"] });

    r = await cli(["exec", ...cfg(), "--machine", ams, "--", "sh", "-c", "echo out; echo oops >&2; exit 3"]);
    expect([r.code, r.out]).toEqual([3, "out\n"]);
    expect(r.err).toContain("oops\n");
    expect(fly.exec.runs.at(-1)!.machine).toBe(ams);

    r = await cli(["exec", ...cfg(), "--", "no-such-program"]);
    expect(r.code).toBe(127);
    expect(r.err).toContain("no-such-program: not found");

    r = await cli(["exec", ...cfg(), "--json", "--", "echo", "hi"]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toEqual({
      app: APP,
      machine: ewr,
      command: ["echo", "hi"],
      exit_code: 0,
      exit_signal: null,
      stdout: "hi\n",
      stderr: "",
    });
  });

  test("with nothing after --, fly.toml's console_command is the command; without one it is a usage error", async () => {
    const withConsole = join(dirname(configPath), "fly.console.toml");
    writeFileSync(withConsole, `console_command = "echo 'from console'"\n${readFileSync(configPath, "utf8")}`);
    const r = await cli(["exec", "--config", withConsole, "--machine", ewr]);
    expect(r.code).toBe(0);
    expect(r.out).toBe("from console\n");
    expect(fly.exec.runs.at(-1)).toEqual({ machine: ewr, command: ["echo", "from console"] });
    const without = await cli(["exec", ...cfg()]);
    expect(without.code).toBe(2);
    expect(without.err).toContain("console_command in fly.toml");
  });

  test("usage errors exit 2 with a hint; no started machine exits 2 saying how to wake one", async () => {
    const results = await Promise.all([
      cli(["exec", ...cfg()]),
      cli(["exec", ...cfg(), "echo", "hi"]),
      cli(["exec", ...cfg(), "--timeout", "0", "--", "echo"]),
      cli(["status", ...cfg(), "--", "echo"]),
    ]);
    for (const r of results) expect(r.code).toBe(2);
    expect(results[0]!.err).toContain("exec -- bun run migrate");
    expect(results[1]!.err).toContain("bun deploy/run.ts exec -- echo hi");

    await client.stopMachine(APP, ams);
    await client.waitMachine(APP, ams, { state: "stopped", timeoutSeconds: 5 });
    let r = await cli(["exec", ...cfg(), "--machine", ams, "--", "echo"]);
    expect(r.code).toBe(2);
    expect(r.err).toContain(`machine ${ams} is stopped`);
    await client.stopMachine(APP, ewr);
    await client.waitMachine(APP, ewr, { state: "stopped", timeoutSeconds: 5 });
    const runs = fly.exec.runs.length;
    r = await cli(["exec", ...cfg(), "--", "echo"]);
    expect(r.code).toBe(2);
    expect(r.err).toContain("no started machine");
    expect(r.err).toContain(`https://${APP}.fly.dev/health`);
    expect(fly.exec.runs.length).toBe(runs);
  });
});
