/**
 * Durability where a test can be honest about it: a writer killed mid-upload (SIGKILL, nothing runs after it)
 * never leaves a half file under the real name, the previous version survives whole, and the next boot clears
 * the abandoned temp file. (A power cut, which is what the fsyncs are for, cannot be produced here.)
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { eventually, type Instance, migratedScratchDatabase, startInstance } from "../../support/fleet.ts";
import { postgresAvailable, type ScratchDatabase } from "../../support/postgres.ts";
import { killLeftoverServers } from "../../support/server-process.ts";

const pg = await postgresAvailable();

describe.skipIf(!pg)("a writer killed mid-upload", () => {
  let scratch: ScratchDatabase;
  let mediaDir: string;
  let instance: Instance | undefined;

  beforeAll(async () => {
    scratch = await migratedScratchDatabase("crash");
    mediaDir = mkdtempSync(join(tmpdir(), "flightdeck-crash-"));
  });
  afterAll(async () => {
    killLeftoverServers();
    await instance?.stop().catch(() => {});
    await scratch?.drop();
    rmSync(mediaDir, { recursive: true, force: true });
  });

  test("leaves the old version whole, no half file under the real name, and no temp file after the next boot", async () => {
    instance = await startInstance({ machineId: "m-crash", mediaDir, databaseUrl: scratch.url });
    const call = (path: string, init: RequestInit = {}) => fetch(`${(instance as Instance).url}${path}`, init);
    const credentials = JSON.stringify({ email: "crash@example.com", password: "correct horse battery staple" });
    const json = { "content-type": "application/json" };
    expect((await call("/v1/auth/register", { method: "POST", headers: json, body: credentials })).status).toBe(201);
    const { access_token } = (await (
      await call("/v1/auth/login", { method: "POST", headers: json, body: credentials })
    ).json()) as { access_token: string };
    const auth = { authorization: `Bearer ${access_token}` };
    const project = (
      (await (
        await call("/v1/projects", {
          method: "POST",
          headers: { ...auth, ...json },
          body: JSON.stringify({ name: "crash" }),
        })
      ).json()) as { id: string }
    ).id;
    expect(
      (
        await call(`/v1/projects/${project}/files/kept.bin`, {
          method: "PUT",
          headers: auth,
          body: "the original, complete",
        })
      ).status,
    ).toBe(201);

    // Two uploads that never finish: one replacing kept.bin, one creating fresh.bin.
    const chunk = new Uint8Array(64 * 1024).fill(1);
    const endless = () =>
      new ReadableStream<Uint8Array>({
        async pull(controller) {
          await Bun.sleep(5);
          controller.enqueue(chunk);
        },
      });
    const uploads = ["kept.bin", "fresh.bin"].map((name) =>
      call(`/v1/projects/${project}/files/${name}`, {
        method: "PUT",
        headers: auth,
        body: endless(),
        duplex: "half",
      } as RequestInit).catch(() => "cut"),
    );
    const tmp = join(mediaDir, ".tmp");
    const partial = () =>
      existsSync(tmp) && readdirSync(tmp).filter((f) => statSync(join(tmp, f)).size > 256 * 1024).length === 2;
    expect(await eventually(partial, 10_000)).toBe(true);

    await instance.kill();
    expect(await Promise.all(uploads)).toEqual(["cut", "cut"]);
    expect(readFileSync(join(mediaDir, project, "kept.bin"), "utf8")).toBe("the original, complete");
    expect(existsSync(join(mediaDir, project, "fresh.bin"))).toBe(false);
    expect(readdirSync(tmp).length).toBe(2); // the evidence the kill landed mid-write

    instance = await startInstance({ machineId: "m-crash", mediaDir, databaseUrl: scratch.url });
    expect(existsSync(tmp) ? readdirSync(tmp) : []).toEqual([]);
    const read = await fetch(`${instance.url}/v1/projects/${project}/files/kept.bin`, { headers: auth });
    expect([read.status, await read.text()]).toEqual([200, "the original, complete"]);
    expect((await fetch(`${instance.url}/v1/projects/${project}/files/fresh.bin`, { headers: auth })).status).toBe(404);
  }, 30_000);
});
