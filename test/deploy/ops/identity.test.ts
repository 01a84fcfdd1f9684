// Who a release records (deploy/ops/identity.ts): git's own files in git's order, GIT_AUTHOR_* over them, GitHub
// Actions' actor and run URL, $USER as the last resort. The files are real ones in a temp directory, read without git.
import { afterEach, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { deployer, gitUser } from "../../../deploy/ops/identity.ts";

let root = "";
afterEach(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

function tree(files: Record<string, string>): string {
  root = mkdtempSync(join(tmpdir(), "flightdeck-identity-"));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(root, path, ".."), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

test("git config text: [user] only, case-insensitive keys, quotes, escapes and inline comments", () => {
  expect(gitUser('[User]\n  Name = "Ada \\"A\\" L" # me\n  EMAIL = ada@x.org ; work\n[other]\nname = no\n')).toEqual({
    name: 'Ada "A" L',
    email: "ada@x.org",
  });
  expect(gitUser('[user "x"]\nname = sub\n')).toEqual({ name: "sub" });
  expect(gitUser("[core]\nname = no\n")).toEqual({});
});

test("the repository beats ~/.gitconfig, which beats XDG; GIT_AUTHOR_* beat all; a worktree's .git file is followed", () => {
  const r = tree({
    "home/.config/git/config": "[user]\nname = Xdg\nemail = xdg@x\n",
    "home/.gitconfig": "[user]\nname = Global\n",
    "main/.git/config": "[user]\nemail = repo@x\n",
    "main/.git/worktrees/wt/commondir": "../..\n",
    "wt/.git": `gitdir: ${join("..", "main", ".git", "worktrees", "wt")}\n`,
    "wt/app/fly.toml": "",
  });
  const env = { HOME: join(r, "home"), USER: "u" };
  expect(deployer(env, join(r, "main"))).toEqual({ by: "Global <repo@x>" });
  expect(deployer(env, join(r, "wt", "app"))).toEqual({ by: "Global <repo@x>" });
  expect(deployer(env, join(r, "home"))).toEqual({ by: "Global <xdg@x>" });
  expect(deployer({ ...env, GIT_AUTHOR_NAME: "Env", GIT_AUTHOR_EMAIL: "env@x" }, join(r, "main"))).toEqual({
    by: "Env <env@x>",
  });
  expect(deployer({ HOME: join(r, "nowhere"), USER: "u" }, join(r, "nowhere"))).toEqual({ by: "u" });
  expect(deployer({}, join(r, "nowhere"))).toEqual({});
});

test("GitHub Actions: the actor and the run URL, whatever git says", () => {
  const r = tree({ "home/.gitconfig": "[user]\nname = Global\n" });
  const env = { HOME: join(r, "home"), GITHUB_ACTIONS: "true", GITHUB_ACTOR: "octocat" };
  expect(deployer(env, r)).toEqual({ by: "octocat" });
  const full = { ...env, GITHUB_SERVER_URL: "https://github.com", GITHUB_REPOSITORY: "a/b", GITHUB_RUN_ID: "7" };
  expect(deployer(full, r)).toEqual({ by: "octocat", url: "https://github.com/a/b/actions/runs/7" });
});
