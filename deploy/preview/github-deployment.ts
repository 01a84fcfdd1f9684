// A preview as a GitHub deployment, so the pull request shows "View deployment" next to the preview's URL.
// Deployments API (https://docs.github.com/en/rest/deployments): `preview up` creates a deployment of the PR's
// head commit in the environment `pr-<N>` (transient: GitHub shows it as destroyed once inactive) and gives it
// a `success` status whose environment_url is the preview URL, or `failure` when the deploy failed;
// `preview down` and `prune` set every still-active deployment of `pr-<N>` to `inactive`.
//
// GitHub's `auto_inactive` only retires earlier *non-transient* deployments, so a new `up` retires the
// earlier successful ones of its environment itself. Nothing here fails a preview: the preview runs whether
// or not GitHub took note, so every GitHub error becomes a warning (the workflow needs `deployments: write`).

import { describeError } from "../deploy-error.ts";
import type { DeploymentState, GitHubClient } from "../github/github.ts";
import type { Output } from "../output.ts";

export function previewEnvironment(pr: number): string {
  return `pr-${pr}`;
}

export interface PreviewDeploymentInput {
  pr: number;
  state: "success" | "failure";
  /** The preview URL (environment_url): what "View deployment" opens. */
  url: string;
  /** The PR head commit, when the event told us; otherwise GitHub is asked for the PR's head. */
  sha?: string;
  /** The workflow run (log_url). */
  logUrl?: string;
  description: string;
}

export interface RecordedDeployment {
  id: number;
  environment: string;
  ref: string;
  state: "success" | "failure";
  /** Earlier deployments of the environment set to inactive by this one. */
  superseded: number[];
  /** The newest deployment already recorded this commit as up: nothing was written. */
  unchanged: boolean;
}

/** GitHub caps a status description at 140 characters. */
function shortDescription(text: string): string {
  const line = text.split("\n")[0]!;
  return line.length <= 140 ? line : `${line.slice(0, 139)}…`;
}

/** Creates the deployment and its status. Returns undefined (after a warning) when GitHub could not be told. */
export async function recordPreviewDeployment(
  github: GitHubClient,
  input: PreviewDeploymentInput,
  output: Output,
): Promise<RecordedDeployment | undefined> {
  const environment = previewEnvironment(input.pr);
  try {
    const ref = input.sha ?? (await github.getPullRequest(input.pr))?.head?.sha;
    if (!ref) {
      output.warn(`no GitHub deployment for PR #${input.pr}: its head commit is unknown`);
      return undefined;
    }
    // Re-running a finished `up` changes nothing: the newest deployment already says this commit is up here.
    const [newest] = await github.listDeployments(environment);
    if (newest && newest.ref === ref && input.state === "success") {
      const [latest] = await github.listDeploymentStatuses(newest.id);
      if (latest?.state === "success" && latest.environment_url === input.url) {
        return { id: newest.id, environment, ref, state: "success", superseded: [], unchanged: true };
      }
    }
    const deployment = await github.createDeployment({
      ref,
      environment,
      description: shortDescription(`Flightdeck preview of PR #${input.pr}`),
      transient_environment: true,
      production_environment: false,
      auto_merge: false,
      required_contexts: [],
    });
    await github.createDeploymentStatus(deployment.id, {
      state: input.state,
      // A failed preview has nothing to view: only success links the URL.
      ...(input.state === "success" ? { environment_url: input.url } : {}),
      ...(input.logUrl ? { log_url: input.logUrl } : {}),
      description: shortDescription(input.description),
    });
    const superseded = input.state === "success" ? await setInactive(github, environment, deployment.id) : [];
    output.step(
      `GitHub deployment ${deployment.id} in ${environment}: ${input.state}${superseded.length ? ` (${superseded.length} earlier set inactive)` : ""}`,
    );
    return { id: deployment.id, environment, ref, state: input.state, superseded, unchanged: false };
  } catch (error) {
    output.warn(
      `could not record the GitHub deployment for PR #${input.pr} (the preview itself is unaffected): ${describeError(error)}`,
    );
    return undefined;
  }
}

/** Sets every active deployment of PR `pr`'s environment inactive (down, prune). Undefined after a warning. */
export async function deactivatePreviewDeployments(
  github: GitHubClient,
  pr: number,
  output: Output,
): Promise<number[] | undefined> {
  const environment = previewEnvironment(pr);
  try {
    const retired = await setInactive(github, environment);
    if (retired.length > 0) output.step(`GitHub deployments of ${environment} set inactive: ${retired.join(", ")}`);
    return retired;
  } catch (error) {
    output.warn(`could not mark the GitHub deployments of ${environment} inactive: ${describeError(error)}`);
    return undefined;
  }
}

/** States after which a deployment still counts as live on GitHub (it shows "View deployment" / "in progress"). */
const LIVE: readonly DeploymentState[] = ["success", "in_progress", "queued", "pending"];

async function setInactive(github: GitHubClient, environment: string, keep?: number): Promise<number[]> {
  const retired: number[] = [];
  for (const deployment of await github.listDeployments(environment)) {
    if (deployment.id === keep || deployment.environment !== environment) continue;
    const [latest] = await github.listDeploymentStatuses(deployment.id);
    if (!latest || !LIVE.includes(latest.state)) continue;
    await github.createDeploymentStatus(deployment.id, {
      state: "inactive",
      description: "preview replaced or removed",
    });
    retired.push(deployment.id);
  }
  return retired;
}
