// A command's result when it is more than "print this with --json, exit 0": exec exits with the remote
// command's own status, and logs has already written its lines (NDJSON with --json) as they arrived.

export class CommandOutcome {
  constructor(
    readonly exitCode: number,
    /** Printed as the one JSON object with --json; undefined when the command printed its own output. */
    readonly json: unknown = undefined,
  ) {}
}
