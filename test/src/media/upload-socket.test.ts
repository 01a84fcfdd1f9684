/**
 * Uploads through a real socket: Bun hands a request body to the handler in chunks of its own choosing, and the
 * store writes them in batches (src/media/store.ts), so the bytes on disk and the sha256 must match what was
 * sent whatever the chunking, for bodies below, at and well above one batch.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { killLeftoverServers, type ListeningServer, startServerProcess } from "../../support/server-process.ts";

const scratch = mkdtempSync(join(tmpdir(), "flightdeck-upload-socket-"));
const sha256 = (data: Uint8Array) => new Bun.CryptoHasher("sha256").update(data).digest("hex");

describe("uploads over a socket", () => {
  let server: ListeningServer;
  let auth: Record<string, string>;
  let projectId: string;

  beforeAll(async () => {
    server = await startServerProcess({
      APP_ENV: "development",
      DATABASE_URL: `sqlite:${scratch}/db.sqlite`,
      MEDIA_DIR: `${scratch}/media`,
    });
    const json = { "content-type": "application/json" };
    const credentials = JSON.stringify({ email: "socket@example.com", password: "correct horse battery staple" });
    expect(
      (await fetch(`${server.url}/v1/auth/register`, { method: "POST", headers: json, body: credentials })).status,
    ).toBe(201);
    const login = (await (
      await fetch(`${server.url}/v1/auth/login`, { method: "POST", headers: json, body: credentials })
    ).json()) as { access_token: string };
    auth = { authorization: `Bearer ${login.access_token}` };
    const project = await fetch(`${server.url}/v1/projects`, {
      method: "POST",
      headers: { ...auth, ...json },
      body: JSON.stringify({ name: "socket" }),
    });
    projectId = ((await project.json()) as { id: string }).id;
  }, 30_000);
  afterAll(async () => {
    server?.child.kill("SIGTERM");
    await server?.child.exited;
    killLeftoverServers();
    rmSync(scratch, { recursive: true, force: true });
  });

  // Sizes around the 128 KiB write batch, and a body sent as a stream of odd-sized chunks.
  for (const [name, size, streamed] of [
    ["small", 1_000, false],
    ["one batch", 128 * 1024, false],
    ["batch + 1", 128 * 1024 + 1, false],
    ["3 MiB", 3 * 1024 * 1024 + 7, false],
    ["3 MiB streamed in odd chunks", 3 * 1024 * 1024 + 7, true],
  ] as const) {
    test(`${name}: disk, row and download all hold exactly the bytes sent`, async () => {
      const content = crypto.getRandomValues(new Uint8Array(size));
      const body = streamed
        ? new ReadableStream<Uint8Array>({
            start(controller) {
              for (let at = 0; at < content.length; at += 4093) controller.enqueue(content.slice(at, at + 4093));
              controller.close();
            },
          })
        : content;
      const url = `${server.url}/v1/projects/${projectId}/files/socket/${size}-${streamed}.bin`;
      const put = await fetch(url, { method: "PUT", headers: auth, body, duplex: "half" } as RequestInit);
      expect(put.status).toBe(201);
      expect((await put.json()) as { sha256: string; size: number }).toMatchObject({ sha256: sha256(content), size });
      const onDisk = new Uint8Array(
        await Bun.file(join(scratch, "media", projectId, `socket/${size}-${streamed}.bin`)).arrayBuffer(),
      );
      expect(onDisk.length).toBe(size);
      expect(sha256(onDisk)).toBe(sha256(content));
      const got = new Uint8Array(await (await fetch(url, { headers: auth })).arrayBuffer());
      expect(Buffer.compare(got, content)).toBe(0);
    }, 30_000);
  }
});
