// How `logs --follow` polls (in-process, against the fake, with short timings): straight on while pages come
// back, doubling waits while idle, a failed poll warned about and retried, five in a row given up on.
import { afterEach, beforeEach, expect, test } from "bun:test";
import { createLogsClient } from "../../../lib/fly/logs.ts";
import { printLogs } from "../../../deploy/ops/logs.ts";
import { createOutput } from "../../../deploy/output.ts";
import { startFakeFly, type FakeFly } from "../../fakes/fly-machines.ts";
import { captureIo } from "../harness.ts";

let fly: FakeFly;
beforeEach(() => {
  fly = startFakeFly();
  fly.seedApp("web");
});
afterEach(() => fly.close());

const logsClient = () => createLogsClient({ baseUrl: fly.url, token: fly.token, retry: { retries: 0 } });
const logCalls = () => fly.calls.filter((c) => c.path === "/api/v1/apps/web/logs");

function follow(timing = { minMs: 10, maxMs: 80 }) {
  const controller = new AbortController();
  const io = { ...captureIo(), signal: controller.signal };
  const done = printLogs(
    logsClient(),
    { app: "web", follow: true, json: false },
    io,
    createOutput(io, { json: false }),
    timing,
  );
  return { io, done, stop: () => controller.abort() };
}

test("full pages are read back to back; an idle follow backs off to the cap instead of hammering the API", async () => {
  fly.logs.pageSize = 3;
  for (let i = 0; i < 7; i++) fly.logs.append("web", { message: `m${i}` });
  const f = follow();
  await Bun.sleep(600);
  f.stop();
  expect(await f.done).toBe(7);
  expect(
    f.io.out
      .join("")
      .trimEnd()
      .split("\n")
      .map((l) => l.split(" ").at(-1)),
  ).toEqual(["m0", "m1", "m2", "m3", "m4", "m5", "m6"]);
  const calls = logCalls();
  // 3 pages with lines, then idle: waits of 10, 20, 40, 80, 80... ms. Without backoff it would be ~60 calls.
  expect(calls.length).toBeGreaterThanOrEqual(6);
  expect(calls.length).toBeLessThanOrEqual(14);
  const gaps = calls.slice(4).map((c, i) => c.at - calls[i + 3]!.at);
  expect(Math.max(...gaps)).toBeGreaterThanOrEqual(60);
});

test("a failed poll is a warning and the follow goes on; a line after the failure still arrives once", async () => {
  fly.logs.append("web", { message: "before" });
  const f = follow();
  await Bun.sleep(50);
  fly.faults.serverError(2, { match: { path: "/logs" } });
  fly.logs.append("web", { message: "after" });
  await Bun.sleep(400);
  f.stop();
  expect(await f.done).toBe(2);
  expect(f.io.err.join("")).toContain("reading logs failed (1/5)");
  expect(f.io.out.join("").match(/after/g)).toHaveLength(1);
});

test("five failed polls in a row end the follow with the error; a missing app ends it at once", async () => {
  fly.faults.serverError(100, { match: { path: "/logs" } });
  const f = follow({ minMs: 1, maxMs: 4 });
  expect(
    await f.done.then(
      () => "finished",
      (error: Error) => error.message,
    ),
  ).toContain("status 500");
  expect(logCalls().length).toBe(5);
  fly.faults.clear();
  const io = captureIo();
  const missing = printLogs(
    logsClient(),
    { app: "gone", follow: true, json: false },
    io,
    createOutput(io, { json: false }),
  );
  expect(
    await missing.then(
      () => "finished",
      (error: Error) => error.message,
    ),
  ).toContain("app gone does not exist");
});
