/**
 * Whether fly.toml asks for a Docker or buildpack build (flyctl `BuildStrategies`), which the daemonless builder
 * cannot honour: such an app deploys an image built elsewhere (cli/handlers.ts refuseDockerBuild, image/cli.ts).
 * @module
 */

import type { BuildSettings } from "./flytoml-types.ts";

/**
 * How the app's image is built when fly.toml asks for Docker or buildpacks ([build] dockerfile, builder, buildpacks,
 * args); undefined when the daemonless build (or [build] image) applies.
 */
export function dockerBuildOf(build: BuildSettings): string | undefined {
  if (build.builder !== undefined) return `buildpacks ([build] builder = "${build.builder}")`;
  if (build.buildpacks !== undefined) return `buildpacks ([build] buildpacks = ${JSON.stringify(build.buildpacks)})`;
  const keys = [
    build.dockerfile !== undefined ? `dockerfile = "${build.dockerfile}"` : "",
    build.buildTarget !== undefined ? `build-target = "${build.buildTarget}"` : "",
    build.args !== undefined ? `args (${Object.keys(build.args).join(", ")})` : "",
  ].filter(Boolean);
  return keys.length > 0 ? `Docker ([build] ${keys.join(", ")})` : undefined;
}
