/**
 * The fleet in one line, for a failed deploy's "fleet now": what the run re-read after its rollback settled
 * (settle.ts: transient means ask again), the eventually consistent list reconciled with what the run itself
 * restored and removed (observe.ts KnownMachines), so a machine it destroyed and still listed as `destroying`
 * is gone and one just restored is shown where it landed.
 * @module
 */

import type { FlyClient } from "../../lib/fly/client.ts";
import type { Machine } from "../../lib/fly/types.ts";
import { describeError } from "../deploy-error.ts";
import { isApiMember } from "./members.ts";
import { type KnownMachines, reconcile } from "./observe.ts";
import { readSettled } from "./settle.ts";

/** "5 machine(s): 4 on registry/app:v1 (3 started, 1 stopped), 1 on ..." */
export async function describeFleet(
  client: FlyClient,
  app: string,
  opts: { known?: KnownMachines; timeoutMs?: number } = {},
): Promise<string> {
  let machines: Machine[];
  try {
    const read = async () => {
      const listed = await client.listMachines(app);
      return opts.known ? reconcile(client, app, listed, opts.known, undefined) : listed;
    };
    machines = await readSettled({ client, app, timeoutMs: opts.timeoutMs ?? 0 }, read, (m) => m.filter(isApiMember));
  } catch (error) {
    return `unknown (could not list machines: ${describeError(error)})`;
  }
  const managed = machines.filter(isApiMember);
  if (managed.length === 0) return "no machines";
  const byImage = new Map<string, Map<string, number>>();
  for (const m of managed) {
    const image = m.config?.image ?? "?";
    const states = byImage.get(image) ?? new Map<string, number>();
    states.set(m.state ?? "?", (states.get(m.state ?? "?") ?? 0) + 1);
    byImage.set(image, states);
  }
  const parts = [...byImage.entries()].map(([image, states]) => {
    const total = [...states.values()].reduce((a, b) => a + b, 0);
    return `${total} on ${image} (${[...states.entries()].map(([s, n]) => `${n} ${s}`).join(", ")})`;
  });
  return `${managed.length} machine(s): ${parts.join("; ")}`;
}
