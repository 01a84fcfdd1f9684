// `destroy --app` takes the fleet lock like every other change (deploy/ops/destroy.ts): against the fake Fly API,
// which enforces leases, with the lock held by another run as a deploy in progress would hold it.
import { afterEach, expect, test } from "bun:test";
import { acquireFleetLock } from "../../../deploy/fleet/lock.ts";
import { main } from "../../../deploy/run.ts";
import { APP, appMachines, captureIo, deployedFleet, type Harness } from "../harness.ts";

let h: Harness;
afterEach(() => h?.close());

async function destroy(...extra: string[]) {
  const io = captureIo({ FLY_API_TOKEN: h.fly.token, FLY_FLAPS_BASE_URL: h.fly.url });
  const code = await main(["destroy", "--app", APP, "--yes", "--json", ...extra], io);
  return { code, out: io.out.join(""), err: io.err.join("") };
}

/** The lock as another deploy holds it: same fleet, another lease description. */
const holdLock = () => acquireFleetLock({ client: h.client, app: APP, output: h.output, command: "deploy", env: {} });

test("while another deploy holds the lock, destroy gives up after --wait-for-lock with exit 2 and deletes nothing", async () => {
  h = await deployedFleet();
  const machinesBefore = appMachines(h.fly).length;
  const lock = await holdLock();
  h.fly.calls.length = 0;

  const r = await destroy("--wait-for-lock", "300ms");

  expect(r.code).toBe(2);
  expect(r.err).toContain(`another deploy is working on ${APP}; nothing was changed`);
  expect(r.err).toContain("flightdeck deploy, host");
  expect(h.fly.state.apps.has(APP)).toBe(true);
  expect(appMachines(h.fly)).toHaveLength(machinesBefore);
  expect(h.fly.calls.filter((c) => c.method === "DELETE" && c.path === `/v1/apps/${APP}`)).toEqual([]);
  await lock.release();
});

test("destroy waits for the holder to finish, then deletes the app; the gone leases are not released and it exits 0", async () => {
  h = await deployedFleet();
  const lock = await holdLock();
  h.fly.calls.length = 0;

  const running = destroy("--wait-for-lock", "30s");
  await Bun.sleep(400);
  expect(h.fly.state.apps.has(APP)).toBe(true);
  await lock.release();
  const r = await running;

  expect(r.code).toBe(0);
  expect(JSON.parse(r.out)).toEqual({ app: APP, existed: true });
  expect(h.fly.state.apps.has(APP)).toBe(false);
  expect(r.err).toContain(`${APP} is locked by flightdeck deploy`);
  expect(r.err).not.toContain("could not release");
  const deleted = h.fly.calls.findIndex((c) => c.method === "DELETE" && c.path === `/v1/apps/${APP}` && c.status < 300);
  expect(deleted).toBeGreaterThan(-1);
  // Leases were taken before the delete (the lock was held); after it only reads of the app, until its 404.
  expect(
    h.fly.calls.slice(0, deleted).some((c) => c.method === "POST" && c.path.endsWith("/lease") && c.status === 201),
  ).toBe(true);
  expect(h.fly.calls.slice(deleted + 1).map((c) => `${c.method} ${c.path} ${c.status}`)).toEqual([
    `GET /v1/apps/${APP} 404`,
  ]);
});

// Fly deletes an app asynchronously (202, then GET app answers for a while): the fake's lingerAfterDelete
// plays that, counted in reads so no outcome here depends on timing.

test("a delete Fly finishes later: destroy reads the app until it answers 404, then exits 0", async () => {
  h = await deployedFleet();
  h.fly.faults.lingerAfterDelete({ app: APP, reads: 3 });
  h.fly.calls.length = 0;

  const r = await destroy();

  expect(r.code).toBe(0);
  expect(JSON.parse(r.out)).toEqual({ app: APP, existed: true });
  expect(h.fly.state.apps.has(APP)).toBe(false);
  const deleted = h.fly.calls.findIndex((c) => c.method === "DELETE" && c.path === `/v1/apps/${APP}`);
  // Three reads still see the app, the fourth does not: exit 0 came from a 404, not from the 202.
  expect(h.fly.calls.slice(deleted + 1).map((c) => `${c.method} ${c.path} ${c.status}`)).toEqual([
    `GET /v1/apps/${APP} 200`,
    `GET /v1/apps/${APP} 200`,
    `GET /v1/apps/${APP} 200`,
    `GET /v1/apps/${APP} 404`,
  ]);
  expect(r.err).toContain(`app ${APP} destroyed`);
});

test("an app that never disappears: exit 1 app_not_deleted naming the app and the re-run; the re-run finishes it", async () => {
  h = await deployedFleet();
  h.fly.faults.lingerAfterDelete({ app: APP });

  const r = await destroy("--wait-timeout", "300ms");

  expect(r.code).toBe(1);
  const { error } = JSON.parse(r.out) as { error: { code: string; message: string; exitCode: number } };
  expect(error.code).toBe("app_not_deleted");
  expect(error.exitCode).toBe(1);
  expect(error.message).toContain(`Fly accepted the delete of ${APP}, but the app still exists 300ms later`);
  expect(error.message).toContain(`bun deploy/run.ts destroy --app ${APP} --yes`);
  expect(r.err).not.toContain(`app ${APP} destroyed`);
  expect(h.fly.state.apps.has(APP)).toBe(true);

  // Fly finishes the delete the second time (no more lingering): the same command, run again, ends at exit 0.
  h.fly.faults.clear();
  const again = await destroy();
  expect(again.code).toBe(0);
  expect(JSON.parse(again.out)).toEqual({ app: APP, existed: true });
  expect(h.fly.state.apps.has(APP)).toBe(false);
});

test("--wait-timeout that is not a duration is a usage error before any call", async () => {
  h = await deployedFleet();
  h.fly.calls.length = 0;
  const r = await destroy("--wait-timeout", "soon");
  expect(r.code).toBe(2);
  expect(r.err).toContain('--wait-timeout must be a duration such as 1m or 30s (got "soon")');
  expect(h.fly.calls).toEqual([]);
});

test("an app that does not exist: exit 0, nothing to do, no lock taken", async () => {
  h = await deployedFleet();
  h.fly.state.apps.delete(APP);
  h.fly.calls.length = 0;
  const r = await destroy();
  expect(r.code).toBe(0);
  expect(JSON.parse(r.out)).toEqual({ app: APP, existed: false });
  expect(h.fly.calls.map((c) => `${c.method} ${c.path}`)).toEqual([`GET /v1/apps/${APP}`]);
});
