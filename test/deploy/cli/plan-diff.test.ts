/**
 * `plan` and `deploy` show the fields that change (issue 21), against the fake Fly API: after a first deploy, memory
 * 512mb -> 1gb and one env var added; `plan --json` carries the collapsed change set as data, `plan` prints it, and
 * `deploy` prints it on stderr before its first write.
 *
 * @module
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { main } from "../../../deploy/run.ts";
import { startFakeFly, type FakeFly } from "../../fakes/fly-machines.ts";
import { captureIo, GOOD_SECRETS, IMAGE_V1, IMAGE_V2 } from "../harness.ts";

let fly: FakeFly;
let configPath: string;
let original: string;

beforeAll(async () => {
  fly = startFakeFly();
  configPath = join(mkdtempSync(join(tmpdir(), "flightdeck-plan-diff-")), "fly.toml");
  original = (await Bun.file(new URL("../../../fly.toml", import.meta.url)).text()).replace(
    /wait_timeout = "[^"]*"/,
    'wait_timeout = "3s"',
  );
  writeFileSync(configPath, original);
});
afterAll(() => fly.close());

async function run(argv: string[]) {
  const cap = captureIo({ FLY_API_TOKEN: fly.token, FLY_FLAPS_BASE_URL: fly.url });
  const code = await main(argv, cap);
  return { code, out: cap.out.join(""), err: cap.err.join("") };
}

test("memory and one env var: plan shows the fields, deploy shows them before writing", async () => {
  const secrets = [`DATABASE_URL=${GOOD_SECRETS.DATABASE_URL}`, `SECRET_KEY=${GOOD_SECRETS.SECRET_KEY}`];
  expect((await run(["secrets", "set", ...secrets, "--config", configPath])).code).toBe(0);
  expect((await run(["deploy", "--config", configPath, "--image", IMAGE_V1])).code).toBe(0);

  writeFileSync(
    configPath,
    original.replace('memory = "512mb"', 'memory = "1gb"').replace("[env]\n", '[env]\n  FEATURE_X = "on"\n'),
  );
  const json = await run(["plan", "--config", configPath, "--image", IMAGE_V1, "--json"]);
  expect(json.code).toBe(0);
  const plan = JSON.parse(json.out);
  expect(plan.changeSets).toHaveLength(1);
  expect(plan.changeSets[0].machines).toHaveLength(5);
  expect(plan.changeSets[0]).toMatchObject({ region: "ewr", imageOnly: false });
  expect(plan.changeSets[0].changes).toEqual([
    { path: "env.FEATURE_X", before: null, after: "on" },
    { path: "guest.memory_mb", before: 512, after: 1024 },
  ]);
  // The digest stays the identity: every update still names it.
  for (const a of plan.actions.filter((x: { kind: string }) => x.kind === "update_machine"))
    expect(a.from.configDigest).toMatch(/^[0-9a-f]{64}$/);
  expect(JSON.stringify(plan)).not.toContain(GOOD_SECRETS.SECRET_KEY);

  const text = await run(["plan", "--config", configPath, "--image", IMAGE_V1]);
  expect(text.out).toContain("changes:\n  5 machines in ewr (");
  expect(text.out).toContain('    env.FEATURE_X: added "on"\n    guest.memory_mb: 512 -> 1024');

  // An image-only change is shown as one.
  writeFileSync(configPath, original);
  const before = fly.mutatingCalls().length;
  const image = await run(["plan", "--config", configPath, "--image", IMAGE_V2]);
  expect(image.out).toContain(`: image ${IMAGE_V1} -> ${IMAGE_V2}`);
  expect(fly.mutatingCalls().length).toBe(before);

  const deploy = await run(["deploy", "--config", configPath, "--image", IMAGE_V2]);
  expect(deploy.code).toBe(0);
  expect(deploy.out).toBe("");
  const shown = deploy.err.indexOf(`: image ${IMAGE_V1} -> ${IMAGE_V2}`);
  expect(shown).toBeGreaterThan(-1);
  // Printed in the planning phase, before the release command and the first machine update.
  expect(shown).toBeLessThan(deploy.err.indexOf("==> release command"));
  expect(shown).toBeLessThan(deploy.err.indexOf("updated machine"));
  // An image-only change is not explained by a config digest (env APP_VERSION follows the image).
  expect(image.out).not.toMatch(/config [0-9a-f]{12} -> [0-9a-f]{12}/);
});
