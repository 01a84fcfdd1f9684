/**
 * The one help renderer: a command's own usage (its sub-verbs, operands and flags only) for `<command> --help`,
 * `help <command>` and a usage error of that command. The overall list stays `usageText()` in commands.ts.
 * @module
 */

import { COMMANDS, type CommandName, type CommandSpec } from "./commands.ts";

export function commandUsage(name: CommandName): string {
  const spec: CommandSpec = COMMANDS[name];
  const sub = spec.subcommands ? ` ${spec.subcommands.join("|")}` : "";
  const operands = spec.operands ? ` ${spec.operands}` : "";
  const rows = Object.entries(spec.flags).map(([flag, f]) => {
    const value = f.type === "boolean" ? "" : ` ${f.values ? f.values.join("|") : (f.placeholder ?? "VALUE")}`;
    return [`--${flag}${value}`, `${f.description}${f.required ? " (required)" : ""}`] as const;
  });
  const width = Math.max(0, ...rows.map(([left]) => left.length));
  const lines = [`usage: bun deploy/run.ts ${name}${sub} [flags]${operands}`, `  ${spec.summary}`, "", "flags:"];
  for (const [left, right] of rows) lines.push(`  ${left.padEnd(width)}  ${right}`);
  return `${lines.join("\n")}\n`;
}
