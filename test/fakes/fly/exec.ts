// POST /v1/apps/{app}/machines/{id}/exec (spec Machines_exec: MachineExecRequest -> flydv1.ExecResponse).
// Only a started machine runs commands. The fake "runs" a small, deterministic command set:
//   echo ARGS...           stdout: ARGS joined by spaces + "\n"
//   true / false           exit 0 / 1
//   exit N                 exit N
//   env                    the machine's config env, sorted K=V lines
//   cat                    stdin back on stdout
//   sh -c 'SCRIPT'         statements separated by ";": echo ... [>&2], exit N, or any of the above
//   anything else          stderr "<cmd>: not found", exit 127 (what a shell answers)
// The command arrives as `command` (argv, the spec's form) or the deprecated `cmd` string flyctl still sends.
// `omitEmpty` (default) answers like Go's `omitempty` (fly-go MachineExecResponse): exit_code 0 and empty
// output are left out; `omitEmpty: false` always sends every field.

import type { MachineExecRequest, MachineExecResponse } from "../../../lib/fly/types.ts";
import { HttpError, json, requireMachine, validBody, type FakeContext } from "./context.ts";
import type { Route } from "./router.ts";
import type { FakeMachine } from "./state.ts";

export interface ExecBehaviour {
  omitEmpty: boolean;
  /** Every command run, in order. */
  runs: { machine: string; command: string[] }[];
}

export function createExecBehaviour(): ExecBehaviour {
  return { omitEmpty: true, runs: [] };
}

interface Result {
  stdout: string;
  stderr: string;
  code: number;
}

function run(argv: string[], machine: FakeMachine, stdin: string): Result {
  const [program, ...args] = argv;
  switch (program) {
    case "echo":
      return { stdout: `${args.join(" ")}\n`, stderr: "", code: 0 };
    case "true":
      return { stdout: "", stderr: "", code: 0 };
    case "false":
      return { stdout: "", stderr: "", code: 1 };
    case "exit":
      return { stdout: "", stderr: "", code: Number(args[0] ?? 0) & 0xff };
    case "env": {
      const env = Object.entries(machine.config.env ?? {}).sort(([a], [b]) => a.localeCompare(b));
      return { stdout: env.map(([k, v]) => `${k}=${v}\n`).join(""), stderr: "", code: 0 };
    }
    case "cat":
      return { stdout: stdin, stderr: "", code: 0 };
    case "sh":
      if (args[0] === "-c" && args[1] !== undefined) return script(args[1], machine, stdin);
      return { stdout: "", stderr: "sh: only -c SCRIPT is supported by the fake\n", code: 2 };
    default:
      return { stdout: "", stderr: `sh: 1: ${program}: not found\n`, code: 127 };
  }
}

function script(text: string, machine: FakeMachine, stdin: string): Result {
  const out: Result = { stdout: "", stderr: "", code: 0 };
  for (const statement of text
    .split(";")
    .map((s) => s.trim())
    .filter(Boolean)) {
    const toStderr = /\s*>&2$/.test(statement);
    const words = statement
      .replace(/\s*>&2$/, "")
      .split(/\s+/)
      .map((w) => w.replace(/^(['"])(.*)\1$/, "$2"));
    if (words[0] === "exit") return { ...out, code: Number(words[1] ?? 0) & 0xff };
    const result = run(words, machine, stdin);
    if (toStderr) out.stderr += result.stdout;
    else out.stdout += result.stdout;
    out.stderr += result.stderr;
    out.code = result.code;
  }
  return out;
}

export function execRoutes(ctx: FakeContext, behaviour: ExecBehaviour): Route[] {
  return [
    {
      method: "POST",
      path: "/v1/apps/:app/machines/:machine/exec",
      handle: ({ app, params, body }) => {
        const machine = requireMachine(app!, params.machine!);
        const input = validBody<MachineExecRequest>(ctx, "MachineExecRequest", body);
        const argv =
          input.command && input.command.length > 0 ? input.command : (input.cmd ?? "").split(/\s+/).filter(Boolean);
        if (argv.length === 0) throw new HttpError(400, "command is required");
        if (machine.state !== "started")
          throw new HttpError(412, `failed_precondition: machine ${machine.id} is ${machine.state}, not started`);
        behaviour.runs.push({ machine: machine.id, command: [...argv] });
        const result = run(argv, machine, input.stdin ?? "");
        const reply: MachineExecResponse = behaviour.omitEmpty
          ? {
              ...(result.code !== 0 ? { exit_code: result.code } : {}),
              ...(result.stdout ? { stdout: result.stdout } : {}),
              ...(result.stderr ? { stderr: result.stderr } : {}),
            }
          : { exit_code: result.code, exit_signal: 0, stdout: result.stdout, stderr: result.stderr };
        return json(reply);
      },
    },
  ];
}
