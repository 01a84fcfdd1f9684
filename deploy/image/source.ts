// Where `deploy` gets its image when no --image is given: it builds the project daemonlessly and pushes it
// to the Fly registry (issue 5: tag `registry.fly.io/<app>:deployment-<id>`, the machine config gets the
// digest-pinned reference). flyctl does the same with a remote builder and tags `deployment-<ULID>`;
// we pin by digest so the machines run exactly the bytes we pushed, whatever later happens to the tag.
//
// Injectable (DeployOptions.build) so scenario tests against the fake Fly API need no registry.

import { DeployError, describeError } from "../deploy-error.ts";
import type { Output } from "../output.ts";

export interface ImageBuildRequest {
  /** The Fly app: the repository the image is pushed to. */
  app: string;
  /** The directory holding fly.toml, package.json and .dockerignore: the build context. */
  projectDir: string;
  env: Record<string, string | undefined>;
  output: Output;
}

/** Builds and pushes; returns the digest-pinned reference (`registry/app@sha256:...`). */
export type ImageBuilder = (request: ImageBuildRequest) => Promise<string>;

/**
 * `deployment-<id>` ids that sort by time and say where they came from: UTC seconds, then the commit
 * (GITHUB_SHA in a workflow) or, on a laptop, a random suffix so two deploys in one second do not share a tag.
 */
export function deploymentId(env: Record<string, string | undefined>, now: Date = new Date()): string {
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d+Z$/, "Z"); // 20250102T030405Z
  const sha = env.GITHUB_SHA && /^[0-9a-f]{40}$/.test(env.GITHUB_SHA) ? env.GITHUB_SHA.slice(0, 12) : undefined;
  const suffix =
    sha ?? [...crypto.getRandomValues(new Uint8Array(4))].map((b) => b.toString(16).padStart(2, "0")).join("");
  return `${stamp}-${suffix}`;
}

const DIGEST_REFERENCE = /@sha256:[0-9a-f]{64}$/;

/** The daemonless builder of deploy/image (H-IMAGE's buildAndPushImage), with `x:<FLY_API_TOKEN>` for the registry. */
export const daemonlessBuilder: ImageBuilder = async ({ app, projectDir, env, output }) => {
  const token = env.FLY_API_TOKEN?.trim();
  if (!token)
    throw new DeployError(
      "preflight_failed",
      "FLY_API_TOKEN is not set: the registry push needs it (or pass --image REF)",
      2,
      { app },
    );
  const registry = env.FLY_REGISTRY || "registry.fly.io";
  const id = deploymentId(env);
  output.step(`building the image from ${projectDir} and pushing it to ${registry}/${app}:deployment-${id}`);
  // Imported lazily: a deploy with --image never loads the builder.
  const { buildAndPushImage, ImageError } = await import("./index.ts");
  const started = performance.now();
  try {
    const pushed = await buildAndPushImage({ app, deploymentId: id, token, registry, projectDir, env });
    output.step(
      `pushed ${pushed.tagged} (${pushed.uploadedBytes} bytes uploaded) in ${((performance.now() - started) / 1000).toFixed(1)}s: ${pushed.reference}`,
    );
    if (!DIGEST_REFERENCE.test(pushed.reference)) {
      throw new DeployError(
        "image_build_failed",
        `the registry push returned ${pushed.reference}, which is not pinned by digest; nothing on Fly was changed`,
        1,
        { app },
      );
    }
    return pushed.reference;
  } catch (error) {
    if (error instanceof DeployError) throw error;
    // Bad input (unreadable project, bad base reference) is a usage problem; the rest is a failed build/push.
    const exitCode =
      error instanceof ImageError && (error.code === "invalid_input" || error.code === "invalid_reference") ? 2 : 1;
    const code = error instanceof ImageError ? ` [${error.code}]` : "";
    throw new DeployError(
      "image_build_failed",
      `building or pushing the image for ${app} failed${code}: ${describeError(error)}\nnothing on Fly was changed; fix the build, or deploy an existing image with --image REF`,
      exitCode,
      { app },
    );
  }
};
