/**
 * A fly.toml with one of each common mistake reports them all in one run (issue 21): errors first, then the
 * warnings with their did-you-mean, each with its key path and the fix. No Fly API call is made.
 *
 * @module
 */
import { expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { main } from "../../../deploy/run.ts";
import { captureIo } from "../harness.ts";

const FIVE_MISTAKES = `app = "five-mistakes"
primary_regoin = "ewr"

[http_service]
  internal_port = "3000"
  forse_https = true

[[vm]]
  memory = "512 megs"

[deploy]
  wait_timeout = "five minutes"
`;

test("five mistakes, one run: three errors then two warnings, exit 2", async () => {
  const path = join(mkdtempSync(join(tmpdir(), "flightdeck-five-")), "fly.toml");
  writeFileSync(path, FIVE_MISTAKES);
  // An unroutable API: the config is refused before any call.
  const cap = captureIo({ FLY_API_TOKEN: "unused", FLY_FLAPS_BASE_URL: "http://127.0.0.1:9" });
  const code = await main(["plan", "--config", path], cap);
  expect(code).toBe(2);
  const err = cap.err.join("");
  const lines = [
    `${path} is not valid: 3 error(s):`,
    'deploy.wait_timeout: "five minutes" is not a duration; use Go syntax such as "10s", "1m30s" or "500ms"',
    'http_service.internal_port: expected an integer, got the string "3000"; write internal_port = 3000 without quotes',
    'vm[0].memory: "512 megs" is not a memory size; use "512mb", "1gb" or MB as an integer',
    "2 warning(s):",
    'primary_regoin: unknown key, ignored; did you mean "primary_region"?',
    'http_service.forse_https: unknown key, ignored; did you mean "force_https"?',
  ];
  expect(err).toContain(lines.join("\n"));
});
