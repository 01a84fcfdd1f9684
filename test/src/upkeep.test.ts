import { expect, test } from "bun:test";
import { createLogger } from "../../lib/log.ts";
import { atMostEvery, startUpkeep } from "../../src/upkeep.ts";

test("upkeep runs its tasks in order each tick; a failing task is logged and does not stop the others", async () => {
  const ran: string[] = [];
  const logged: { msg: string; task?: string }[] = [];
  const logger = createLogger({ level: "error", write: (line) => void logged.push(JSON.parse(line)) });
  const upkeep = startUpkeep(
    [
      { name: "first", run: async () => void ran.push("first") },
      {
        name: "broken",
        run: async () => {
          throw new Error("boom");
        },
      },
      { name: "last", run: async () => void ran.push("last") },
    ],
    20,
    logger,
  );
  await upkeep.runOnce();
  expect(ran).toEqual(["first", "last"]);
  expect(logged.map((l) => [l.msg, l.task])).toEqual([["upkeep task failed; retrying next tick", "broken"]]);
  await Bun.sleep(70);
  await upkeep.stop();
  const afterStop = ran.length;
  expect(afterStop).toBeGreaterThan(2);
  await Bun.sleep(60);
  expect(ran.length).toBe(afterStop);
});

test("atMostEvery skips runs inside its interval", async () => {
  let now = 0;
  let runs = 0;
  const run = atMostEvery(
    1000,
    async () => void runs++,
    () => now,
  );
  await run();
  now = 999;
  await run();
  now = 1000;
  await run();
  expect(runs).toBe(2);
});
