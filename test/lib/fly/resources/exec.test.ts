/** lib/fly/resources/exec.ts: the body, the timeout margin, no replay. @module */
import { describe, expect, test } from "bun:test";
import { createFlyClient } from "../../../../lib/fly/index.ts";
import { flyFailure } from "../../../support/fly-errors.ts";
import { jsonResponse } from "../scripted-server.ts";
import { bodyOf, serve } from "./harness.ts";

describe("exec", () => {
  test("sends the command and timeout, stdin only when given", async () => {
    const { server, client } = serve(() => jsonResponse({ exit_code: 0, stdout: "hi\n" }));
    const reply = await client.execMachine("web", "m1", { command: ["echo", "hi"], timeoutSeconds: 5 });
    await client.execMachine("web", "m1", { command: ["cat"], timeoutSeconds: 5, stdin: "x" });
    expect(reply.stdout).toBe("hi\n");
    expect(bodyOf(server, 0)).toEqual({ command: ["echo", "hi"], timeout: 5 });
    expect(bodyOf(server, 1)).toEqual({ command: ["cat"], timeout: 5, stdin: "x" });
  });

  test("the request outlives the client's per-request timeout (the command has its own)", async () => {
    const { server } = serve(async () => {
      await Bun.sleep(300);
      return jsonResponse({ exit_code: 0 });
    });
    const client = createFlyClient({ baseUrl: server.url, token: "fm2_secret", timeoutMs: 50 });
    expect((await client.execMachine("web", "m1", { command: ["sleep"], timeoutSeconds: 1 })).exit_code).toBe(0);
    expect(server.received).toHaveLength(1);
  });

  test("never replayed after a 500: the command may have run", async () => {
    const { server, client } = serve(() => jsonResponse({ error: "boom" }, 500));
    const error = await flyFailure(client.execMachine("web", "m1", { command: ["migrate"], timeoutSeconds: 1 }));
    expect(error.status).toBe(500);
    expect(server.received).toHaveLength(1);
  });
});
