// `releases` through real `bun deploy/run.ts` processes against the fake Fly API: the history after two deploys (one
// from a laptop with a git identity and --message, one from GitHub Actions), a failed rollout and a rollback, as the
// exact table and the exact JSON. Plus records written before who/message existed, --limit and --help.

import { afterEach, expect, setDefaultTimeout, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createFlyClient } from "../../../lib/fly/client.ts";
import { encodeReleases } from "../../../deploy/fleet/releases.ts";
import { startFakeFly, type FakeFly } from "../../fakes/fly-machines.ts";
import { cliDir, type CliDir } from "../cli-process.ts";
import { APP, appMachines, GOOD_SECRETS } from "../harness.ts";

setDefaultTimeout(60_000);

const V1 = `registry.fly.io/${APP}:deployment-v1`;
const V2 = `registry.fly.io/${APP}:deployment-v2`;
const V3 = `registry.fly.io/${APP}:deployment-v3`;
const ISO = /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z/g;
/** Same width as a time without milliseconds, so the padded columns stay as printed. */
const AT = "YYYY-MM-DDTHH:MM:SSZ";

let fly: FakeFly;
let dir: CliDir;
afterEach(async () => {
  await fly?.close();
  dir?.remove();
});

async function setUp(): Promise<Record<string, string>> {
  fly = startFakeFly({ bootMs: 15, checksPassMs: 5, runMs: 5, stopMs: 5, waitResponse: "ok_only" });
  dir = await cliDir(fly, { wait: "3s" });
  const client = createFlyClient({ baseUrl: fly.url, token: fly.token });
  await client.createApp({ name: APP, org_slug: "personal" });
  await client.setSecrets(APP, GOOD_SECRETS);
  // A laptop: the git identity comes from ~/.gitconfig (HOME is the test's own), never from running git.
  const home = join(dir.dir, "home");
  mkdirSync(home);
  writeFileSync(
    join(home, ".gitconfig"),
    '[core]\n\tname = not-me\n[user]\n\tname = "Ada Lovelace"\n\temail = ada@example.com\n',
  );
  return { HOME: home, USER: "ada" };
}

const failing = (image: string) => (m: { config: { image?: string; metadata?: Record<string, string> | null } }) =>
  m.config.image === image && m.config.metadata?.fly_process_group === "app";

const ACTIONS = {
  GITHUB_ACTIONS: "true",
  GITHUB_ACTOR: "octocat",
  GITHUB_SERVER_URL: "https://github.com",
  GITHUB_REPOSITORY: "acme/flightdeck",
  GITHUB_RUN_ID: "42",
};

test("after deploys, a failed rollout and a rollback: the table and the JSON, exactly", async () => {
  const laptop = await setUp();
  expect((await dir.run(["deploy", "--image", V1, "--message", "first release"], laptop)).code).toBe(0);
  expect((await dir.run(["deploy", "--image", V2], { ...laptop, ...ACTIONS })).code).toBe(0);
  fly.faults.failStart(failing(V3));
  expect((await dir.run(["deploy", "--image", V3], { ...laptop, GIT_AUTHOR_NAME: "Grace Hopper" })).code).toBe(1);
  const rolled = await dir.run(["rollback", "--message", "v2 logs out everyone"], laptop);
  expect(rolled.code).toBe(0);
  expect(appMachines(fly).map((m) => m.config.image)).toEqual(Array(5).fill(V1));

  const text = await dir.run(["releases"], laptop);
  expect(text.code).toBe(0);
  expect(text.stdout.replace(ISO, AT)).toBe(
    [
      "VERSION  OUTCOME      WHEN                  WHO                                                         IMAGE                                     MESSAGE",
      `v4       good         ${AT}  Ada Lovelace <ada@example.com>                              ${V1}  rollback to v1: v2 logs out everyone`,
      `v3       failed       ${AT}  Grace Hopper <ada@example.com>                              ${V3}  -`,
      `v2       rolled back  ${AT}  octocat https://github.com/acme/flightdeck/actions/runs/42  ${V2}  -`,
      `v1       good         ${AT}  Ada Lovelace <ada@example.com>                              ${V1}  first release`,
      "",
    ].join("\n"),
  );

  const json = await dir.run(["releases", "--json"], laptop);
  expect(json.code).toBe(0);
  const rows = JSON.parse(json.stdout) as ({ at: string } & Record<string, unknown>)[];
  expect(rows.every((r) => !Number.isNaN(Date.parse(r.at)))).toBe(true);
  expect(rows.map((r): Record<string, unknown> => ({ ...r, at: AT }))).toEqual([
    {
      version: 4,
      outcome: "good",
      at: AT,
      by: "Ada Lovelace <ada@example.com>",
      url: null,
      image: V1,
      message: "v2 logs out everyone",
      rollbackTo: 1,
    },
    {
      version: 3,
      outcome: "failed",
      at: AT,
      by: "Grace Hopper <ada@example.com>",
      url: null,
      image: V3,
      message: null,
      rollbackTo: null,
    },
    {
      version: 2,
      outcome: "rolled_back",
      at: AT,
      by: "octocat",
      url: "https://github.com/acme/flightdeck/actions/runs/42",
      image: V2,
      message: null,
      rollbackTo: null,
    },
    {
      version: 1,
      outcome: "good",
      at: AT,
      by: "Ada Lovelace <ada@example.com>",
      url: null,
      image: V1,
      message: "first release",
      rollbackTo: null,
    },
  ]);

  const limited = JSON.parse((await dir.run(["releases", "--json", "--limit", "2"], laptop)).stdout) as unknown[];
  expect(limited).toHaveLength(2);
  // A second rollback does not go forward to the release the first one rolled back (v2): it goes to nothing newer.
  const again = await dir.run(["rollback"], laptop);
  expect(again.code).toBe(2);
  expect(again.stderr).toContain("no good release before the current one");
});

test("records written before who and message existed still print; an unknown app exits 1; --help", async () => {
  const laptop = await setUp();
  expect((await dir.run(["deploy", "--image", V1], laptop)).code).toBe(0);
  const old = encodeReleases([{ version: 1, image: V1, at: "2026-01-01T00:00:00.000Z", outcome: "good" }]);
  for (const m of appMachines(fly)) if (m.config.metadata) m.config.metadata.flightdeck_releases = old;
  const text = await dir.run(["releases"], laptop);
  expect(text.stdout).toBe(
    [
      "VERSION  OUTCOME  WHEN                  WHO  IMAGE                                     MESSAGE",
      `v1       good     2026-01-01T00:00:00Z  -    ${V1}  -`,
      "",
    ].join("\n"),
  );
  const other = await dir.run(["releases", "--app", "no-such-app"], laptop);
  expect(other.code).toBe(1);
  expect(other.stderr).toContain("app no-such-app does not exist yet");
  const bad = await dir.run(["releases", "--limit", "0"], laptop);
  expect(bad.code).toBe(2);
  const help = await dir.run(["releases", "--help"]);
  expect(help.code).toBe(0);
  expect(help.stdout).toStartWith("usage: bun deploy/run.ts releases [flags]\n");
  expect(help.stdout).toContain("--limit N");
  const empty = await dir.run(["deploy", "--image", V1, "--message", " "], laptop);
  expect(empty.code).toBe(2);
  expect(empty.stderr).toContain("--message must be 1 to 200 characters");
});
