/**
 * `--app NAME` (issue 19, flyctl's `-a`): a fly.toml whose `app` is a template placeholder, or one file used for
 * several apps, is deployed under the name given on the command line; a name Fly would refuse is a usage error.
 * @module
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { main } from "../../../deploy/run.ts";
import { type FakeFly, startFakeFly } from "../../fakes/fly-machines.ts";
import { captureIo } from "../harness.ts";

let fly: FakeFly;
let file: string;

beforeAll(() => {
  fly = startFakeFly();
  const dir = mkdtempSync(join(tmpdir(), "flightdeck-app-flag-"));
  file = join(dir, "fly.toml");
  writeFileSync(file, 'app = "template-placeholder"\nprimary_region = "ewr"\n');
});
afterAll(() => fly.close());

async function run(argv: string[]) {
  const cap = captureIo({ FLY_API_TOKEN: fly.token, FLY_FLAPS_BASE_URL: fly.url });
  const code = await main(argv, cap);
  return { code, out: cap.out.join(""), err: cap.err.join("") };
}

test("--app overrides fly.toml's app for the API calls and the report", async () => {
  const r = await run(["status", "--config", file, "--app", "given-on-the-command-line"]);
  expect(r.code).toBe(1);
  expect(r.err).toContain("app given-on-the-command-line does not exist yet");
  expect(r.err).not.toContain("template-placeholder");
  const asked = fly.calls.map((c) => c.path).filter((p) => p.startsWith("/v1/apps/"));
  expect(asked.length).toBeGreaterThan(0);
  expect(asked.every((p) => p.startsWith("/v1/apps/given-on-the-command-line"))).toBe(true);
});

test("a name Fly would refuse is a usage error before any API call", async () => {
  const before = fly.calls.length;
  const r = await run(["plan", "--config", file, "--app", "Not_A_Name"]);
  expect(r.code).toBe(2);
  expect(r.err).toContain("--app must be a Fly app name");
  expect(fly.calls.length).toBe(before);
});

test("every command that reads fly.toml lists --app in its help", async () => {
  for (const command of ["deploy", "plan", "status", "scale", "rollback", "secrets", "token", "certs", "exec", "db"]) {
    const r = await run([command, "--help"]);
    expect(r.code).toBe(0);
    expect(r.out).toContain("--app NAME");
  }
});
