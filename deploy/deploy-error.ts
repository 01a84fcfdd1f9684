// One error type for the deploy boundary. Its exit code is the CLI contract of DESIGN.md: 2 means
// "usage, config or preflight: nothing was changed", 1 means "the operation failed" and the message
// must say what state the fleet was left in.

export type DeployErrorCode =
  | "usage"
  | "config_invalid"
  /** The fly.toml (or --config file) is not there: distinct from invalid, so the advice fits. */
  | "config_missing"
  | "preflight_failed"
  | "app_not_found"
  /** A delete Fly accepted (202) whose app was still readable when the wait for it to go ran out. */
  | "app_not_deleted"
  | "release_command_failed"
  | "rollout_failed"
  | "lease_held"
  | "machine_not_started"
  | "checks_not_passing"
  /** A stopped or suspended machine the deploy updated failed when started once to test it (standby-check.ts). */
  | "standby_check_failed"
  | "aborted"
  | "api_error"
  | "not_available"
  | "image_build_failed"
  | "database_failed";

export class DeployError extends Error {
  override readonly name = "DeployError";
  constructor(
    readonly code: DeployErrorCode,
    message: string,
    readonly exitCode: 1 | 2 = 1,
    /** What a person needs to act: app, machine ids, the fleet's state after the failure. */
    readonly context: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export function usageError(message: string): DeployError {
  return new DeployError("usage", message, 2);
}

/** Turn a caught value into a message without ever dumping request headers (which carry the token). */
export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
