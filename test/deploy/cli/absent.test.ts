/**
 * Absence said plainly (issue 21): `status` of an app Fly does not have exits 1 and says how to create it; a --config
 * file that is not there is called missing, not invalid, and the advice does not tell the user to pass --config.
 *
 * @module
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { main } from "../../../deploy/run.ts";
import { startFakeFly, type FakeFly } from "../../fakes/fly-machines.ts";
import { captureIo } from "../harness.ts";

let fly: FakeFly;
let dir: string;

beforeAll(() => {
  fly = startFakeFly();
  dir = mkdtempSync(join(tmpdir(), "flightdeck-absent-"));
  writeFileSync(join(dir, "fly.toml"), 'app = "never-deployed"\nprimary_region = "ewr"\n');
});
afterAll(() => fly.close());

async function run(argv: string[]) {
  const cap = captureIo({ FLY_API_TOKEN: fly.token, FLY_FLAPS_BASE_URL: fly.url });
  const code = await main(argv, cap);
  return { code, out: cap.out.join(""), err: cap.err.join("") };
}

test("status of an app that does not exist exits 1 and says deploy creates it", async () => {
  const r = await run(["status", "--config", join(dir, "fly.toml")]);
  expect(r.code).toBe(1);
  expect(r.err).toContain("app never-deployed does not exist yet; `deploy` creates it");
  const json = await run(["status", "--config", join(dir, "fly.toml"), "--json"]);
  expect(json.code).toBe(1);
  expect(JSON.parse(json.out).error).toMatchObject({ code: "app_not_found" });
  expect(fly.mutatingCalls()).toHaveLength(0);
});

test("a --config file that is not there is reported missing, exit 2, no API call", async () => {
  const before = fly.calls.length;
  const r = await run(["plan", "--config", join(dir, "nope.toml")]);
  expect(r.code).toBe(2);
  expect(r.err).toContain(`--config ${join(dir, "nope.toml")}: no such file`);
  expect(r.err).not.toContain("pass --config");
  expect(r.err).not.toContain("is not valid");
  expect(fly.calls.length).toBe(before);
});
