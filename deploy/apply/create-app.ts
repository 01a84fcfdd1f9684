/**
 * The app, created once before a first deploy: the fleet lock lives in the app, so this step cannot be under it,
 * and two first deploys may race here.
 * @module
 */

import type { FlyClient } from "../../lib/fly/client.ts";
import { isFlyApiError } from "../../lib/fly/errors.ts";
import type { Output } from "../output.ts";
import type { Plan } from "../plan/types.ts";
import { waitForApp } from "./apply.ts";

/**
 * Creates the app before the fleet lock can be taken (the lock lives in the app). Two first deploys race
 * here: the loser gets 422 name_taken, and goes on only if the app is then readable with our token (it is
 * the winner's, in our org); 403 would mean the name belongs to someone else.
 */
export async function createAppOnce(
  client: FlyClient,
  plan: Plan,
  output: Output,
  signal: AbortSignal | undefined,
): Promise<void> {
  const action = plan.actions.find((a) => a.kind === "create_app");
  if (action?.kind !== "create_app") return;
  output.step(`creating app ${action.app} in org ${action.org}`);
  try {
    await client.createApp({ name: action.app, org_slug: action.org }, { signal });
  } catch (error) {
    if (!(isFlyApiError(error) && error.status === 422)) throw error;
    output.step(`app ${action.app} was created meanwhile (another run); continuing with it`);
  }
  await waitForApp(client, action.app, signal);
}
