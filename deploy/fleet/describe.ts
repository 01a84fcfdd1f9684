/**
 * The fleet in one line, for the message of a failed deploy: "5 machine(s): 4 on registry/app:v1 (3 started,
 * 1 stopped), 1 on ...". Never throws: a fleet that cannot be listed is described as unknown, with why.
 * @module
 */

import type { FlyClient } from "../../lib/fly/client.ts";
import type { Machine } from "../../lib/fly/types.ts";
import { describeError } from "../deploy-error.ts";
import { isApiMember } from "./members.ts";

export async function describeFleet(client: FlyClient, app: string): Promise<string> {
  let machines: Machine[];
  try {
    machines = await client.listMachines(app);
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
