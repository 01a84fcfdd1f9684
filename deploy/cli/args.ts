// Strict argv parsing against COMMANDS: an unknown command or flag is a usage error (exit 2),
// never silently ignored — the same stance fly.toml parsing takes on unknown keys.
import { suggest } from "../config/config-reader.ts";
import { usageError } from "../deploy-error.ts";
import type { CommandArgs } from "../ops/context.ts";
import { COMMANDS, type CommandName, type CommandSpec } from "./commands.ts";

/** CommandArgs (ops/context.ts, what commands below the CLI read) with the command checked against COMMANDS. */
export interface ParsedArgs extends CommandArgs {
  command: CommandName;
}

export function isCommandName(name: string): name is CommandName {
  return Object.hasOwn(COMMANDS, name);
}

export function parseArgs(argv: readonly string[]): ParsedArgs {
  const [name, ...rest] = argv;
  if (!name || name === "--help" || name === "-h" || name === "help") throw usageError("no command given");
  if (!isCommandName(name)) throw usageError(`unknown command "${name}"${didYouMean(name, Object.keys(COMMANDS))}`);
  const spec: CommandSpec = COMMANDS[name];
  const positionals: string[] = [];
  const flags: ParsedArgs["flags"] = {};
  let passthrough: string[] = [];

  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i]!;
    if (arg === "--") {
      // POSIX end of options: what follows is another program's argv, never our flags.
      if (!spec.passthrough) throw usageError(`"${name}" takes no command after --`);
      passthrough = rest.slice(i + 1);
      break;
    }
    if (!arg.startsWith("--")) {
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf("=");
    const key = arg.slice(2, eq === -1 ? undefined : eq);
    const flag = spec.flags[key];
    if (!flag) throw usageError(`unknown flag --${key} for "${name}"${didYouMean(key, Object.keys(spec.flags), "--")}`);
    if (flag.type === "boolean") {
      if (eq !== -1) throw usageError(`--${key} takes no value`);
      flags[key] = true;
      continue;
    }
    let value: string | undefined;
    if (eq !== -1) value = arg.slice(eq + 1);
    else {
      value = rest[i + 1];
      if (value === undefined || value.startsWith("--")) throw usageError(`--${key} needs a value`);
      i++;
    }
    if (flag.values && !flag.values.includes(value)) {
      throw usageError(`--${key} must be one of ${flag.values.join(", ")} (got "${value}")`);
    }
    if (flag.type === "integer") {
      if (!/^-?\d+$/.test(value)) throw usageError(`--${key} must be a whole number (got "${value}")`);
      flags[key] = Number(value);
    } else if (flag.repeatable) {
      const seen = flags[key];
      flags[key] = [...(Array.isArray(seen) ? seen : []), value];
    } else flags[key] = value;
  }

  let subcommand: string | undefined;
  if (spec.subcommands) {
    subcommand = positionals.shift();
    if (!subcommand) throw usageError(`"${name}" needs one of: ${spec.subcommands.join(", ")}`);
    if (!spec.subcommands.includes(subcommand)) {
      throw usageError(`unknown "${name}" subcommand "${subcommand}" (expected ${spec.subcommands.join(", ")})`);
    }
  }
  if (positionals.length > 0 && !spec.positionals) {
    const hint = spec.passthrough
      ? ` (put the command after --: bun deploy/run.ts ${name} -- ${positionals.join(" ")})`
      : "";
    throw usageError(`unexpected argument "${positionals[0]}" for "${name}"${hint}`);
  }
  if (!spec.delegated) {
    for (const [key, flag] of Object.entries(spec.flags)) {
      if (flag.required && flags[key] === undefined) throw usageError(`"${name}" needs --${key}`);
    }
  }
  return { command: name, subcommand, positionals, flags, rest: passthrough };
}

/** `; did you mean "deploy"?`, from the same near-match rule fly.toml's unknown keys use (config-reader.ts). */
export function didYouMean(word: string, candidates: readonly string[], prefix = ""): string {
  const near = suggest(word, candidates);
  return near.length > 0 ? `; did you mean ${near.map((n) => `"${prefix}${n}"`).join(" or ")}?` : "";
}
