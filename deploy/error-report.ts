/**
 * Every error class the deploy library or its clients throw, as the one `{ code, message, exitCode }` the CLI
 * prints (DESIGN.md CLI contract: exit 1 the operation failed, 2 usage/config/preflight, nothing changed). Below
 * `cli/` so the preview and image commands report the same way; the messages never carry a token (each class
 * builds its message from method, path and response only).
 * @module
 */

import { ConfigError } from "../lib/config.ts";
import { FlyClientConfigError } from "../lib/fly/client.ts";
import { isFlyApiError } from "../lib/fly/errors.ts";
import { TOKEN_HELP } from "../lib/fly/token-help.ts";
import { DeployConfigError } from "./config/flytoml.ts";
import { DeployError, describeError } from "./deploy-error.ts";
import { isGitHubError } from "./github/github.ts";
import { ImageError } from "./image/errors.ts";
import { MissingReleaseCommandError } from "./machine/machine-config.ts";
import { PreviewNameError } from "./preview/names.ts";

export interface ErrorReport {
  code: string;
  message: string;
  exitCode: 1 | 2;
}

export function errorReport(error: unknown): ErrorReport {
  if (error instanceof DeployError) return { code: error.code, message: error.message, exitCode: error.exitCode };
  if (isFlyApiError(error)) {
    const message =
      error.status === 401
        ? `${error.message}\nFLY_API_TOKEN was rejected (expired, revoked, or for another organization): ${TOKEN_HELP}`
        : error.message;
    return { code: `fly_${error.code}`, message, exitCode: 1 };
  }
  // Nothing was sent: a preflight problem, fixed by exporting the token.
  if (error instanceof FlyClientConfigError) return { code: error.code, message: error.message, exitCode: 2 };
  if (isGitHubError(error))
    return { code: `github_${error.code}`, message: error.message, exitCode: error.code === "config_invalid" ? 2 : 1 };
  if (error instanceof PreviewNameError) return { code: error.code, message: error.message, exitCode: 2 };
  if (error instanceof ImageError) {
    const usage = error.code === "invalid_input" || error.code === "invalid_reference";
    return { code: `image_${error.code}`, message: error.message, exitCode: usage ? 2 : 1 };
  }
  if (error instanceof DeployConfigError || error instanceof ConfigError)
    return { code: error.code, message: error.message, exitCode: 2 };
  // A caller skipped its own check (machine-config.ts): our bug, reported as a failure with its code.
  if (error instanceof MissingReleaseCommandError) return { code: error.code, message: error.message, exitCode: 1 };
  return { code: "failed", message: describeError(error), exitCode: 1 };
}
