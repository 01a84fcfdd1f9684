/**
 * Secrets by name in the plan (issue 21), against the fake Fly API: secrets written on Fly without a roll (another
 * tool, the dashboard) show up in the next plan as `secrets: + NAME` / `- NAME` / `~ NAME`, and in `--json` as changes
 * `secrets.NAME` with "set"/"unset"/digest prefixes; no value is ever printed. Such a change alone is a reason to
 * update the machines. After a deploy or `secrets set`, which record what they gave, there is nothing to show.
 *
 * @module
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createFlyClient } from "../../../lib/fly/client.ts";
import { main } from "../../../deploy/run.ts";
import { startFakeFly, type FakeFly } from "../../fakes/fly-machines.ts";
import { APP, captureIo, GOOD_SECRETS, IMAGE_V1, IMAGE_V2 } from "../harness.ts";

let fly: FakeFly;
let configPath: string;

beforeAll(async () => {
  fly = startFakeFly();
  configPath = join(mkdtempSync(join(tmpdir(), "flightdeck-secrets-diff-")), "fly.toml");
  const text = (await Bun.file(new URL("../../../fly.toml", import.meta.url)).text()).replace(
    /wait_timeout = "[^"]*"/,
    'wait_timeout = "3s"',
  );
  writeFileSync(configPath, text);
});
afterAll(() => fly.close());

async function run(argv: string[]) {
  const cap = captureIo({ FLY_API_TOKEN: fly.token, FLY_FLAPS_BASE_URL: fly.url });
  const code = await main(argv, cap);
  return { code, out: cap.out.join(""), err: cap.err.join("") };
}

const NEW_VALUE = "sk_live_never_printed_1234567890";
const CHANGED_KEY = "z".repeat(40);

test("names added, removed and changed behind the machines' back: in the text plan and in --json, never a value", async () => {
  const set = [`DATABASE_URL=${GOOD_SECRETS.DATABASE_URL}`, `SECRET_KEY=${GOOD_SECRETS.SECRET_KEY}`, "OLD_TOKEN=old"];
  expect((await run(["secrets", "set", ...set, "--config", configPath])).code).toBe(0);
  expect((await run(["deploy", "--config", configPath, "--image", IMAGE_V1])).code).toBe(0);
  // Nothing changed since: the plan for a new image shows the image only.
  const clean = await run(["plan", "--config", configPath, "--image", IMAGE_V2]);
  expect(clean.out).toContain(`: image ${IMAGE_V1} -> ${IMAGE_V2}`);
  expect(clean.out).not.toContain("secrets:");

  // Written straight to Fly, no roll (as `fly secrets set --stage` or the dashboard would).
  const client = createFlyClient({ baseUrl: fly.url, token: fly.token });
  await client.setSecrets(APP, { STRIPE_KEY: NEW_VALUE, SECRET_KEY: CHANGED_KEY });
  await client.unsetSecrets(APP, ["OLD_TOKEN"]);
  const digests = Object.fromEntries((await client.listSecrets(APP)).map((s) => [s.name, s.digest ?? ""]));

  // The machines' secrets version cannot tell (the write was not ours), their recorded names can: an update is
  // planned for the same image, for the secrets alone.
  const same = await run(["plan", "--config", configPath, "--image", IMAGE_V1]);
  expect(same.code).toBe(0);
  expect(same.out).toContain("# secrets changed since its last update");
  expect(same.out).toContain("    secrets: - OLD_TOKEN\n    secrets: ~ SECRET_KEY\n    secrets: + STRIPE_KEY");
  expect(same.out).not.toContain("= no changes");

  const text = await run(["plan", "--config", configPath, "--image", IMAGE_V2]);
  expect(text.code).toBe(0);
  expect(text.out).toContain(
    [
      `    image: "${IMAGE_V1}" -> "${IMAGE_V2}"`,
      '    env.APP_VERSION: "deployment-v1" -> "deployment-v2"',
      "    secrets: - OLD_TOKEN",
      "    secrets: ~ SECRET_KEY",
      "    secrets: + STRIPE_KEY",
    ].join("\n"),
  );

  const json = await run(["plan", "--config", configPath, "--image", IMAGE_V2, "--json"]);
  const plan = JSON.parse(json.out);
  expect(plan.changeSets).toHaveLength(1);
  const secrets = plan.changeSets[0].changes.filter((c: { path: string }) => c.path.startsWith("secrets."));
  expect(secrets).toEqual([
    { path: "secrets.OLD_TOKEN", before: "set", after: "unset" },
    {
      path: "secrets.SECRET_KEY",
      before: expect.stringMatching(/^digest [0-9a-f]{16}$/),
      after: `digest ${String(digests.SECRET_KEY).slice(0, 16)}`,
    },
    { path: "secrets.STRIPE_KEY", before: "unset", after: "set" },
  ]);
  expect(secrets[1].before).not.toBe(secrets[1].after);
  for (const out of [text.out, text.err, json.out, json.err]) {
    expect(out).not.toContain(NEW_VALUE);
    expect(out).not.toContain(CHANGED_KEY);
    expect(out).not.toContain(GOOD_SECRETS.SECRET_KEY);
  }

  // The deploy gives the machines those secrets and records them: the next plan has nothing about secrets.
  expect((await run(["deploy", "--config", configPath, "--image", IMAGE_V2])).code).toBe(0);
  const after = await run(["plan", "--config", configPath, "--image", IMAGE_V2]);
  expect(after.out).not.toContain("secrets");
  expect(after.out).toContain("= no changes");
  // `secrets set` rolls and records too.
  expect((await run(["secrets", "set", "ANOTHER=x", "--config", configPath])).code).toBe(0);
  const rolled = await run(["plan", "--config", configPath, "--image", IMAGE_V2]);
  expect(rolled.out).not.toContain("secrets");
  expect(rolled.out).toContain("= no changes");
});
