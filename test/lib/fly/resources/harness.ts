/**
 * One scripted server per test and a client pointed at it, for the resource suites: each asserts what its
 * resource module puts on the wire and how it reads the answers.
 * @module
 */
import { afterEach } from "bun:test";
import { createFlyClient, type FlyClient } from "../../../../lib/fly/index.ts";
import { FAST_RETRY, type ScriptedServer, scriptedServer } from "../scripted-server.ts";

let current: ScriptedServer | undefined;
afterEach(async () => {
  await current?.close();
  current = undefined;
});

export function serve(handler: Parameters<typeof scriptedServer>[0]): { server: ScriptedServer; client: FlyClient } {
  current = scriptedServer(handler);
  return { server: current, client: createFlyClient({ baseUrl: current.url, token: "fm2_secret", retry: FAST_RETRY }) };
}

export const bodyOf = (server: ScriptedServer, index = 0): unknown => JSON.parse(server.received[index]!.body);
