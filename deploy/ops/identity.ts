/**
 * Who runs a deploy, for the release history (issue 21; Kamal's audit log records the same): under GitHub Actions the
 * actor and the run's URL, on a laptop the git identity. Read from the environment and git's own config files, never
 * by running `git`: the project does not shell out (it ships no flyctl either), a CI image or a container may have no
 * git binary, and a file read is what tests can pin with HOME and a directory.
 *
 * Git's order (git-config(1) FILES, "each file overrides the one before"): $XDG_CONFIG_HOME/git/config (default
 * ~/.config/git/config), then ~/.gitconfig, then the repository's .git/config; GIT_AUTHOR_NAME/GIT_AUTHOR_EMAIL
 * (git-commit-tree(1) ENVIRONMENT) beat all of them. `[include]`/`[includeIf]` files are not followed: a deploy
 * record falls back to $USER rather than guess. System config (/etc/gitconfig) is not read: it names a machine, not
 * a person.
 *
 * @module
 */

import { readFileSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { usageError } from "../deploy-error.ts";
import type { ReleaseNote } from "../fleet/releases.ts";
import { type CommandArgs, configPath } from "./context.ts";

type Env = Record<string, string | undefined>;
/** Reads a text file; undefined when it is absent or unreadable (tests pass their own). */
export type ReadText = (path: string) => string | undefined;

const readText: ReadText = (path) => {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
};

/** `[user] name` / `email` from one git config file's text (sections and keys are case-insensitive). */
export function gitUser(text: string): { name?: string; email?: string } {
  const out: { name?: string; email?: string } = {};
  let section = "";
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue;
    const header = /^\[\s*([A-Za-z0-9.-]+)(?:\s+"[^"]*")?\s*\]/.exec(line);
    if (header) {
      section = (header[1] ?? "").toLowerCase();
      continue;
    }
    if (section !== "user") continue;
    const kv = /^([A-Za-z][A-Za-z0-9-]*)\s*=\s*(.*)$/.exec(line);
    if (!kv) continue;
    const key = (kv[1] ?? "").toLowerCase();
    if (key !== "name" && key !== "email") continue;
    out[key] = unquote(kv[2] ?? "");
  }
  return out;
}

/** A git config value: an inline comment cut off unless quoted, surrounding quotes and \" \\ escapes undone. */
function unquote(value: string): string {
  let out = "";
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (c === "\\" && i + 1 < value.length) out += value[++i];
    else if (c === '"') quoted = !quoted;
    else if (!quoted && (c === "#" || c === ";")) break;
    else out += c;
  }
  return out.trim();
}

/** The repository's config file for `dir`: the nearest .git upwards; a worktree's .git file points at it. */
function repoConfig(dir: string, read: ReadText): string | undefined {
  let at = resolve(dir);
  for (;;) {
    const dotGit = join(at, ".git");
    const isDir = (() => {
      try {
        return statSync(dotGit).isDirectory();
      } catch {
        return undefined;
      }
    })();
    if (isDir === true) return join(dotGit, "config");
    if (isDir === false) {
      // `gitdir: <path>` (git-worktree(1)); the shared config is in its commondir.
      const gitdir = /^gitdir:\s*(.+)$/m.exec(read(dotGit) ?? "")?.[1]?.trim();
      if (!gitdir) return undefined;
      const dir = resolve(at, gitdir);
      const common = read(join(dir, "commondir"))?.trim();
      return join(common ? resolve(dir, common) : dir, "config");
    }
    const up = dirname(at);
    if (up === at) return undefined;
    at = up;
  }
}

/** "Name <email>", "Name", "<email>" or undefined. */
function identity(name: string | undefined, email: string | undefined): string | undefined {
  if (name && email) return `${name} <${email}>`;
  if (name) return name;
  return email ? `<${email}>` : undefined;
}

/**
 * Who and where, for a release record. `dir` is where fly.toml is (its repository's config is read).
 * GitHub Actions: https://docs.github.com/en/actions/reference/variables-reference (GITHUB_ACTOR, GITHUB_SERVER_URL,
 * GITHUB_REPOSITORY, GITHUB_RUN_ID).
 */
export function deployer(env: Env, dir: string, read: ReadText = readText): ReleaseNote {
  if (env.GITHUB_ACTIONS === "true") {
    const { GITHUB_SERVER_URL: server, GITHUB_REPOSITORY: repo, GITHUB_RUN_ID: run } = env;
    const url = server && repo && run ? `${server}/${repo}/actions/runs/${run}` : undefined;
    return { by: env.GITHUB_ACTOR || "github-actions", ...(url ? { url } : {}) };
  }
  let name: string | undefined;
  let email: string | undefined;
  const home = env.HOME;
  const xdg = env.XDG_CONFIG_HOME || (home ? join(home, ".config") : undefined);
  const files = [xdg && join(xdg, "git", "config"), home && join(home, ".gitconfig"), repoConfig(dir, read)];
  for (const file of files) {
    const text = file ? read(file) : undefined;
    if (text === undefined) continue;
    const user = gitUser(text);
    name = user.name || name;
    email = user.email || email;
  }
  const by = identity(env.GIT_AUTHOR_NAME || name, env.GIT_AUTHOR_EMAIL || email) ?? (env.USER || env.LOGNAME);
  return by ? { by } : {};
}

/** The longest `--message` kept: the whole history lives in one metadata value per machine (releases.ts). */
export const MESSAGE_MAX = 200;

/** The note a deploy, scale or rollback records: who (deployer) and `--message`, refused when empty or too long. */
export function releaseNote(args: CommandArgs, env: Env): ReleaseNote {
  const message = args.flags.message;
  if (typeof message === "string" && (message.trim() === "" || message.length > MESSAGE_MAX))
    throw usageError(`--message must be 1 to ${MESSAGE_MAX} characters (got ${message.length})`);
  const who = deployer(env, dirname(resolve(configPath(args))));
  return { ...who, ...(typeof message === "string" ? { message: message.trim() } : {}) };
}
