// `db *`, `token create` and `secrets import` as a user runs them: real `bun deploy/run.ts` processes against the
// fake Fly API. The path of README's "From zero to production" (database, secrets, deploy, restore, CI token),
// the refusals (exit 2, nothing changed), and the promise that no password or token lands in output it should not.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startFakeFly, type FakeFly, type FakeOptions } from "../../../fakes/fly-machines.ts";
import { GOOD_SECRETS, IMAGE_V1 } from "../../harness.ts";

const ROOT = new URL("../../../..", import.meta.url).pathname;
let fly: FakeFly;
let dir: string;
let configPath: string;

beforeAll(async () => {
  fly = startFakeFly({ postgresPhaseMs: 30 });
  dir = mkdtempSync(join(tmpdir(), "flightdeck-db-cli-"));
  configPath = join(dir, "fly.toml");
  const text = (await Bun.file(join(ROOT, "fly.toml")).text())
    .replace(/wait_timeout = "[^"]*"/, 'wait_timeout = "3s"')
    .replace(/release_command_timeout = "[^"]*"/, 'release_command_timeout = "3s"');
  writeFileSync(configPath, text);
});
afterAll(() => fly.close());

interface Ran {
  code: number;
  out: string;
  err: string;
  json: any;
}

interface CliOptions {
  stdin?: string;
  env?: Record<string, string>;
  fake?: FakeFly;
}

/** `bun deploy/run.ts ...` as its own process, with only the environment a user would set. */
function spawnCli(argv: string[], opts: CliOptions = {}) {
  const target = opts.fake ?? fly;
  return Bun.spawn(["bun", "deploy/run.ts", ...argv], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "",
      FLY_API_TOKEN: target.token,
      FLY_FLAPS_BASE_URL: target.url,
      // The client's limiter on the instant fake's clock (test/setup.ts), not Fly's real one.
      FLIGHTDECK_FLY_CLOCK_SCALE: process.env.FLIGHTDECK_FLY_CLOCK_SCALE ?? "0.001",
      ...opts.env,
    },
    stdin: opts.stdin === undefined ? "ignore" : new TextEncoder().encode(opts.stdin),
    stdout: "pipe",
    stderr: "pipe",
  });
}

async function cli(argv: string[], opts: CliOptions = {}): Promise<Ran> {
  const proc = spawnCli(argv, opts);
  const [out, err, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  let json: unknown;
  if (argv.includes("--json")) {
    try {
      json = JSON.parse(out);
    } catch {
      json = undefined;
    }
  }
  return { code, out, err, json };
}

const withConfig = (...argv: string[]) => [...argv, "--config", configPath];

/** Every password the fake's clusters hold: none may appear in any output. */
function passwords(fake: FakeFly = fly): string[] {
  return [...fake.postgres.clusters.values()].flatMap((c) => [...c.users.values()].map((u) => u.password));
}

function expectNoSecrets(r: Ran, fake: FakeFly = fly): void {
  for (const secret of [...passwords(fake), GOOD_SECRETS.SECRET_KEY, fake.token]) {
    expect(r.out).not.toContain(secret);
    expect(r.err).not.toContain(secret);
  }
}

describe("usage errors: exit 2 with the reason, before any call", () => {
  const cases: [string[], RegExp][] = [
    [["db"], /"db" needs one of: create, attach/],
    [["db", "frobnicate"], /unknown "db" subcommand "frobnicate"/],
    [["db", "create", "--disk-gb", "5"], /--disk-gb must be between 10 and 1000/],
    [["db", "create", "--disk-gb", "lots"], /--disk-gb must be a whole number/],
    [["db", "create", "--plan", "huge"], /--plan must be one of basic, starter/],
    [["db", "create", "--name", "Not_OK"], /--name "Not_OK"/],
    [["db", "attach", "--disk-gb", "20"], /--disk-gb is not a flag of "db attach"/],
    [["db", "attach", "--user", "Root!"], /--user "Root!"/],
    [["db", "attach", "--database", "-x"], /--database needs a value|--database "-x"/],
    [["db", "status", "extra"], /unexpected argument "extra"/],
    [["db", "restore"], /"db restore" needs --backup ID/],
    [["db", "destroy"], /"db destroy" needs --yes/],
    [["db", "backup", "--yes"], /--yes is not a flag of "db backup"/],
    [["db", "create", "--wait-for-lock", "1m"], /--wait-for-lock is not a flag of "db create"/],
    [["db", "attach", "--wait-for-lock", "soon"], /--wait-for-lock must be a duration/],
    [["token"], /"token" needs one of: create/],
    [["token", "create", "--expiry", "soon"], /--expiry must be a duration/],
    [["token", "create", "--expiry", "1s"], /--expiry must be a duration of at least 1m/],
    [["secrets", "import", "A=1"], /takes no NAME=VALUE arguments/],
    [["secrets", "set", "A=1", "--file", "x.env"], /--file is a flag of "secrets import" only/],
    [["secrets", "import", "--file", "/nonexistent/.env"], /cannot read --file \/nonexistent\/.env \(ENOENT\)/],
  ];
  // About 30 CLI processes, started at once: on a loaded 2-core machine that alone took over the default 5 s.
  test("each bad command line", async () => {
    const before = fly.calls.length;
    const results = await Promise.all(cases.map(([argv]) => cli(withConfig(...argv))));
    results.forEach((r, i) => {
      expect({ argv: cases[i]![0], code: r.code }).toEqual({ argv: cases[i]![0], code: 2 });
      expect(r.err).toMatch(cases[i]![1]);
      expect(r.out).toBe("");
    });
    expect(fly.calls.length).toBe(before);
  }, 30_000);
});

describe("from zero to production", () => {
  let clusterId = "";
  let restoredId = "";

  test("deploy before the database: refused, naming DATABASE_URL", async () => {
    const r = await cli(withConfig("deploy", "--image", IMAGE_V1));
    expect(r.code).toBe(2);
    expect(r.err).toContain("DATABASE_URL");
  });

  test("db create: waits through the provisioning states; re-running reuses the cluster", async () => {
    let r = await cli(withConfig("db", "create", "--json"));
    expect(r.code).toBe(0);
    expect(r.json).toMatchObject({
      created: true,
      cluster: { name: "flightdeck-db", region: "ewr", plan: "basic", status: "ready", org: "personal" },
    });
    expect(r.err).toContain("cluster flightdeck-db is creating");
    expect(r.err).toMatch(/cluster flightdeck-db is ready/);
    clusterId = r.json.cluster.id;
    const create = fly.calls.find((c) => c.method === "POST" && c.path === "/v1/postgres");
    expect(create?.body).toMatchObject({
      org_slug: "personal",
      name: "flightdeck-db",
      region: "ewr",
      plan: "basic",
      pool_mode: "session",
    });

    const creates = fly.calls.filter((c) => c.method === "POST" && c.path === "/v1/postgres").length;
    r = await cli(withConfig("db", "create"));
    expect(r.code).toBe(0);
    expect(r.out).toContain("(it already existed)");
    expect(fly.calls.filter((c) => c.method === "POST" && c.path === "/v1/postgres").length).toBe(creates);
  });

  test("db attach: database, user, DATABASE_URL in one secrets write; idempotent; no password anywhere", async () => {
    const before = fly.calls.length;
    let r = await cli(withConfig("db", "attach", "--json"));
    expect(r.code).toBe(0);
    expect(r.json).toMatchObject({
      app: "flightdeck",
      database: "flightdeck",
      user: "flightdeck",
      createdDatabase: true,
      createdUser: true,
      secretWritten: true,
      cluster: { id: clusterId },
    });
    const cluster = fly.postgres.clusters.get(clusterId)!;
    const password = cluster.users.get("flightdeck")!.password;
    expect(cluster.users.get("flightdeck")!.role).toBe("schema_admin");
    expect(fly.state.apps.get("flightdeck")!.secrets.get("DATABASE_URL")!.value).toBe(
      `postgresql://flightdeck:${password}@pgbouncer.${clusterId}.flympg.net:5432/flightdeck?sslmode=require`,
    );
    expect(r.json.url).toBe(
      `postgresql://flightdeck:***@pgbouncer.${clusterId}.flympg.net:5432/flightdeck?sslmode=require`,
    );
    const secretWrites = fly.calls
      .slice(before)
      .filter((c) => c.method === "POST" && c.path === "/v1/apps/flightdeck/secrets");
    expect(secretWrites).toHaveLength(1);
    expect([...cluster.attachments.keys()]).toEqual(["flightdeck"]);
    expectNoSecrets(r);

    const again = fly.calls.length;
    r = await cli(withConfig("db", "attach", "--json"));
    expect(r.code).toBe(0);
    expect(r.json).toMatchObject({ secretWritten: false, createdDatabase: false, createdUser: false });
    // Nothing to change, nothing written: not the secret, not the attachment record.
    expect(
      fly.calls
        .slice(again)
        .filter((c) => c.mutating)
        .map((c) => `${c.method} ${c.path}`),
    ).toEqual([]);
    expectNoSecrets(r);
  });

  test("secrets import from stdin: one write, names listed, values never", async () => {
    const before = fly.calls.length;
    const r = await cli(withConfig("secrets", "import"), {
      stdin: `# production\nexport SECRET_KEY="${GOOD_SECRETS.SECRET_KEY}"\nALLOWED_ORIGINS=https://flightdeck.example # the site\n`,
    });
    expect(r.code).toBe(0);
    expect(r.out).toBe("ALLOWED_ORIGINS\nSECRET_KEY\n");
    expect(fly.calls.slice(before).filter((c) => c.method === "POST" && c.path.endsWith("/secrets"))).toHaveLength(1);
    expect(fly.state.apps.get("flightdeck")!.secrets.get("ALLOWED_ORIGINS")!.value).toBe("https://flightdeck.example");
    expectNoSecrets(r);
  });

  test("the deploy preflight now finds the secrets: deploy succeeds on PostgreSQL's URL", async () => {
    const r = await cli(withConfig("deploy", "--image", IMAGE_V1, "--json"));
    expect(r.code).toBe(0);
    expect(r.json.machines).toHaveLength(5);
    expectNoSecrets(r);
  });

  test("db status", async () => {
    const r = await cli(withConfig("db", "status", "--json"));
    expect(r.code).toBe(0);
    expect(r.json).toMatchObject({
      app: "flightdeck",
      attached: true,
      databaseUrlSet: true,
      databaseUrlPointsHere: true,
      databaseUrlHost: `pgbouncer.${clusterId}.flympg.net`,
      cluster: {
        id: clusterId,
        status: "ready",
        poolerHost: `pgbouncer.${clusterId}.flympg.net`,
        attachedApps: ["flightdeck"],
      },
    });
    const text = await cli(withConfig("db", "status"));
    expect(text.out).toContain("app flightdeck: attached, DATABASE_URL set (points at this cluster)");
    expectNoSecrets(r);
    expectNoSecrets(text);
  });

  test("db backup, db backups, db restore (into a new cluster, with next steps), attach it, destroy the old", async () => {
    // A backup that runs for a minute, so the restore below meets it running.
    fly.postgres.phaseMs = 60_000;
    let r = await cli(withConfig("db", "backup", "--json"));
    fly.postgres.phaseMs = 30;
    expect(r.code).toBe(0);
    const backupId: string = r.json.backup.id;
    expect(r.json.backup.status).toBe("running");
    // A restore needs a completed backup: refused (exit 2) while it runs.
    r = await cli(withConfig("db", "restore", "--backup", backupId));
    expect(r.code).toBe(2);
    expect(r.err).toContain("only a completed backup can be restored");
    Object.assign(fly.postgres.clusters.get(clusterId)!.backups[0]!, {
      status: "completed",
      finished_at: new Date().toISOString(),
      size_bytes: 1 << 23,
    });
    r = await cli(withConfig("db", "backups", "--json"));
    expect(r.json.backups).toEqual([expect.objectContaining({ id: backupId, status: "completed", type: "full" })]);

    r = await cli(withConfig("db", "restore", "--backup", "no-such-backup"));
    expect(r.code).toBe(2);
    expect(r.err).toContain(backupId);

    r = await cli(withConfig("db", "restore", "--backup", backupId, "--json"));
    expect(r.code).toBe(0);
    restoredId = r.json.cluster.id;
    expect(restoredId).not.toBe(clusterId);
    expect(r.json.cluster.status).toBe("ready");
    expect(r.json.nextSteps.join("\n")).toContain(`db attach --cluster ${restoredId}`);
    expect(r.json.nextSteps.join("\n")).toContain(`db destroy --cluster ${clusterId} --yes`);
    const text = await cli(withConfig("db", "status", "--cluster", restoredId));
    expect(text.out).toContain("attached apps: none");
    expect(text.out).toContain(`DATABASE_URL set (points at pgbouncer.${clusterId}.flympg.net, not this cluster)`);

    // Attaching the restored cluster switches DATABASE_URL (machines roll) and detaches the old one.
    r = await cli(withConfig("db", "attach", "--cluster", restoredId, "--json"));
    expect(r.code).toBe(0);
    expect(r.json).toMatchObject({
      secretWritten: true,
      createdDatabase: false,
      createdUser: false,
      detachedFrom: [clusterId],
    });
    expect(r.json.machinesUpdated).toHaveLength(5);
    expect(fly.state.apps.get("flightdeck")!.secrets.get("DATABASE_URL")!.value).toContain(
      `@pgbouncer.${restoredId}.flympg.net`,
    );
    expect([...fly.postgres.clusters.get(clusterId)!.attachments.keys()]).toEqual([]);
    expectNoSecrets(r);

    // The app follows its attachment now: plain `db status` is about the restored cluster.
    r = await cli(withConfig("db", "status", "--json"));
    expect(r.json.cluster.id).toBe(restoredId);

    r = await cli(withConfig("db", "destroy", "--cluster", clusterId, "--yes", "--json"));
    expect(r.code).toBe(0);
    expect(r.json).toEqual({ cluster: { id: clusterId, name: "flightdeck-db" }, destroyed: true });
    expect(["deleting", "deleted"]).toContain(fly.postgres.clusters.get(clusterId)!.status);
  });

  test("db destroy is refused while the app is attached (exit 2, nothing deleted), unless --force", async () => {
    const before = fly.mutatingCalls().length;
    let r = await cli(withConfig("db", "destroy", "--yes"));
    expect(r.code).toBe(2);
    expect(r.err).toContain("is attached to flightdeck");
    expect(r.err).toContain("--force");
    expect(fly.mutatingCalls().length).toBe(before);
    expect(fly.postgres.clusters.get(restoredId)!.status).toBe("ready");

    r = await cli(withConfig("db", "detach", "--json"));
    expect(r.code).toBe(0);
    expect(r.json).toMatchObject({ detached: true, cluster: { id: restoredId } });
    expect(r.err).toContain("DATABASE_URL is still set on flightdeck");
    r = await cli(withConfig("db", "attach", "--cluster", restoredId));
    expect(r.code).toBe(0);
    r = await cli(withConfig("db", "destroy", "--cluster", restoredId, "--yes", "--force"));
    expect(r.code).toBe(0);
    expect(["deleting", "deleted"]).toContain(fly.postgres.clusters.get(restoredId)!.status);
  });
});

describe("token create", () => {
  test("printed once on stdout (alone), never on stderr; the token then works for this app", async () => {
    const r = await cli(withConfig("token", "create"));
    expect(r.code).toBe(0);
    const token = r.out.trim();
    expect(r.out).toBe(`${token}\n`);
    expect(token).toStartWith("FlyV1 fm2_");
    expect(r.err).not.toContain(token.slice(6));
    // The name deploy-production.yml reads, in the production environment (not the previews' FLY_API_TOKEN).
    expect(r.err).toContain("gh secret set FLY_API_TOKEN_PRODUCTION --env production");
    expect(r.err).not.toMatch(/gh secret set FLY_API_TOKEN(?!_PRODUCTION)/);
    expect(fly.calls.find((c) => c.path === "/v1/apps/flightdeck/deploy_token")?.body).toEqual({ expiry: "720h0m0s" });

    const status = await cli(withConfig("status", "--json"), { env: { FLY_API_TOKEN: token } });
    expect(status.code).toBe(0);
    expect(status.json.app).toBe("flightdeck");
    // What CI does with it: a deploy of a new image goes through on the app-scoped token alone.
    const deploy = await cli(withConfig("deploy", "--image", "registry.fly.io/flightdeck:deployment-ci", "--json"), {
      env: { FLY_API_TOKEN: token },
    });
    expect(deploy.code).toBe(0);
    expect(
      deploy.json.machines.every((m: { image: string }) => m.image === "registry.fly.io/flightdeck:deployment-ci"),
    ).toBe(true);
    expect(deploy.out + deploy.err).not.toContain(token.slice(6));
  });

  test("--json carries it in a field; --expiry is sent as a Go duration", async () => {
    const r = await cli(withConfig("token", "create", "--expiry", "8760h", "--json"));
    expect(r.code).toBe(0);
    expect(Object.keys(r.json).sort()).toEqual(["app", "expiresAt", "expiry", "token"]);
    expect(r.json.token).toStartWith("FlyV1 fm2_");
    expect(r.json.expiry).toBe("8760h0m0s");
    expect(r.err).not.toContain(r.json.token.slice(6));
  });

  test("a token Fly does not accept on a first call is never printed: exit 1", async () => {
    fly.deployTokens.mintUnusable = true;
    const r = await cli(withConfig("token", "create", "--json"));
    fly.deployTokens.mintUnusable = false;
    expect(r.code).toBe(1);
    expect(r.json.error.message).toContain("it was not printed");
    const minted = fly.calls.filter((c) => c.path === "/v1/apps/flightdeck/deploy_token").length;
    expect(minted).toBeGreaterThan(0);
    expect(r.out + r.err).not.toContain("fm2_deploy");
  });

  test("an app that does not exist yet: exit 2 pointing at deploy", async () => {
    const other = join(dir, "other.toml");
    writeFileSync(other, (await Bun.file(configPath).text()).replace(/^app = .*$/m, 'app = "not-deployed-yet"'));
    const r = await cli(["token", "create", "--config", other]);
    expect(r.code).toBe(2);
    expect(r.err).toContain("bun run deploy");
  });
});

describe("secrets import refusals", () => {
  test("a bad line: exit 2 naming the line, never its value, nothing written", async () => {
    const file = join(dir, "bad.env");
    writeFileSync(
      file,
      `SECRET_KEY="${GOOD_SECRETS.SECRET_KEY}"\nthis-is-a-password-hunter2\nTOKEN="unterminated-hunter2\n`,
    );
    const before = fly.mutatingCalls().length;
    const r = await cli(withConfig("secrets", "import", "--file", file, "--json"));
    expect(r.code).toBe(2);
    expect(r.err).toContain("line 2: expected NAME=VALUE");
    expect(r.err).toContain("line 3: TOKEN: the double quote opened here is never closed");
    expect(r.err + r.out).not.toContain("hunter2");
    expect(r.json.error.exitCode).toBe(2);
    expect(fly.mutatingCalls().length).toBe(before);
  });

  test("values production would refuse: exit 2, value not echoed", async () => {
    const file = join(dir, "weak.env");
    writeFileSync(file, "SECRET_KEY=short-hunter2\n");
    const r = await cli(withConfig("secrets", "import", "--file", file));
    expect(r.code).toBe(2);
    expect(r.err).toContain("SECRET_KEY");
    expect(r.err).not.toContain("short-hunter2");
  });

  test("an empty file: exit 2", async () => {
    const file = join(dir, "empty.env");
    writeFileSync(file, "# nothing\n\n");
    const r = await cli(withConfig("secrets", "import", "--file", file));
    expect(r.code).toBe(2);
    expect(r.err).toContain("nothing to import");
  });
});

describe("other paths", () => {
  async function withFake(options: FakeOptions, run: (fake: FakeFly) => Promise<void>) {
    const fake = startFakeFly({ postgresPhaseMs: 20, ...options });
    try {
      await run(fake);
    } finally {
      await fake.close();
    }
  }

  test("Fly wants the org's real slug: exit 2 saying to set FLY_ORG, nothing created; FLY_ORG then works", async () => {
    await withFake({ personalOrgSlug: "jane-doe-561" }, async (fake) => {
      let r = await cli(withConfig("db", "create"), { fake });
      expect(r.code).toBe(2);
      expect(r.err).toContain("FLY_ORG");
      expect(fake.postgres.clusters.size).toBe(0);
      r = await cli(withConfig("db", "create", "--json"), { fake, env: { FLY_ORG: "jane-doe-561" } });
      expect(r.code).toBe(0);
      expect(r.json.cluster.org).toBe("jane-doe-561");
    });
  });

  test("Ctrl-C while the cluster provisions: exit 1 saying it keeps provisioning; re-running resumes the wait", async () => {
    await withFake({ postgresPhaseMs: 800 }, async (fake) => {
      const proc = spawnCli(withConfig("db", "create"), { fake });
      // Interrupt once the CLI is polling the new cluster (not while its create is in flight).
      const polling = () => fake.calls.some((c) => c.method === "GET" && /^\/v1\/postgres\/[^/]+$/.test(c.path));
      for (let i = 0; i < 500 && !polling(); i++) await Bun.sleep(10);
      proc.kill("SIGINT");
      const [err, code] = await Promise.all([new Response(proc.stderr).text(), proc.exited]);
      expect(code).toBe(1);
      expect(err).toContain("keeps provisioning on Fly");
      const r = await cli(withConfig("db", "create", "--json"), { fake });
      expect(r.code).toBe(0);
      expect(r.json.created).toBe(false);
      expect(fake.postgres.clusters.size).toBe(1);
    });
  });

  test("Ctrl-C while the create itself is in flight: exit 1; the re-run finds the cluster Fly made anyway", async () => {
    await withFake({}, async (fake) => {
      fake.faults.latency(1_000, { method: "POST", path: /^\/v1\/postgres$/ });
      const proc = spawnCli(withConfig("db", "create"), { fake });
      for (let i = 0; i < 500 && !fake.calls.some((c) => c.method === "POST" && c.path === "/v1/postgres"); i++)
        await Bun.sleep(10);
      proc.kill("SIGINT");
      const [err, code] = await Promise.all([new Response(proc.stderr).text(), proc.exited]);
      expect(code).toBe(1);
      expect(err).toContain("it may exist now");
      // The fake finishes the request the client gave up on, as a server would.
      for (let i = 0; i < 300 && fake.postgres.clusters.size === 0; i++) await Bun.sleep(10);
      const r = await cli(withConfig("db", "create", "--json"), { fake });
      expect(r.code).toBe(0);
      expect(r.json.created).toBe(false);
      expect(fake.postgres.clusters.size).toBe(1);
    });
  });

  test("a cluster that fails to provision: exit 1 with the way out", async () => {
    await withFake({}, async (fake) => {
      fake.postgres.failProvisioning = 1;
      const r = await cli(withConfig("db", "create", "--region", "fra", "--plan", "launch", "--disk-gb", "40"), {
        fake,
      });
      expect(r.code).toBe(1);
      expect(r.err).toContain("failed to provision");
      expect(r.err).toContain("db destroy --cluster");
      expect(fake.calls.find((c) => c.method === "POST" && c.path === "/v1/postgres")?.body).toMatchObject({
        region: "fra",
        plan: "launch",
        disk_size_gb: 40,
      });
    });
  });

  test("attach without a cluster: exit 2; over a DATABASE_URL set by hand: exit 2 unless --force", async () => {
    await withFake({}, async (fake) => {
      let r = await cli(withConfig("db", "attach"), { fake });
      expect(r.code).toBe(2);
      expect(r.err).toContain("db create");
      expect((await cli(withConfig("db", "create"), { fake })).code).toBe(0);
      expect(
        (await cli(withConfig("secrets", "set", `DATABASE_URL=${GOOD_SECRETS.DATABASE_URL}`), { fake })).code,
      ).toBe(0);
      r = await cli(withConfig("db", "attach"), { fake });
      expect(r.code).toBe(2);
      expect(r.err).toContain("--force");
      expect(r.err).not.toContain(GOOD_SECRETS.DATABASE_URL);
      expect(fake.state.apps.get("flightdeck")!.secrets.get("DATABASE_URL")!.value).toBe(GOOD_SECRETS.DATABASE_URL);
      // Refused before anything was made: no database, no user.
      const [cluster] = [...fake.postgres.clusters.values()];
      expect([...cluster!.databases]).toEqual(["fly-db"]);
      expect([...cluster!.users.keys()]).toEqual(["fly-user"]);
      r = await cli(withConfig("db", "attach", "--force", "--database", "app-data", "--user", "app-user", "--json"), {
        fake,
      });
      expect(r.code).toBe(0);
      expect(r.json).toMatchObject({ database: "app-data", user: "app-user", secretWritten: true });
      expect(fake.state.apps.get("flightdeck")!.secrets.get("DATABASE_URL")!.value).toContain(
        "/app-data?sslmode=require",
      );
      expectNoSecrets(r, fake);
    });
  });
});
