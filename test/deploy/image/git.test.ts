import { describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readGitRevision, readSourceUrl } from "../../../deploy/image/git.ts";

const SHA = "89abcdef0123456789abcdef0123456789abcdef";

function repo(setup: (git: string, dir: string) => void): string {
  const dir = mkdtempSync(join(tmpdir(), "fd-git-"));
  mkdirSync(join(dir, ".git/refs/heads"), { recursive: true });
  setup(join(dir, ".git"), dir);
  return dir;
}

describe("readGitRevision (no git process)", () => {
  test("loose ref, packed ref, detached HEAD, worktree pointer, GITHUB_SHA fallback", () => {
    const dirs: string[] = [];
    try {
      const loose = repo((g) => {
        writeFileSync(join(g, "HEAD"), "ref: refs/heads/main\n");
        writeFileSync(join(g, "refs/heads/main"), `${SHA}\n`);
      });
      const packed = repo((g) => {
        writeFileSync(join(g, "HEAD"), "ref: refs/heads/release\n");
        writeFileSync(
          join(g, "packed-refs"),
          `# pack-refs with: peeled\n${"1".repeat(40)} refs/heads/other\n${SHA} refs/heads/release\n`,
        );
      });
      const detached = repo((g) => writeFileSync(join(g, "HEAD"), `${SHA}\n`));
      const worktree = mkdtempSync(join(tmpdir(), "fd-wt-"));
      writeFileSync(join(worktree, ".git"), `gitdir: ${join(loose, ".git")}\n`);
      const none = mkdtempSync(join(tmpdir(), "fd-nogit-"));
      dirs.push(loose, packed, detached, worktree, none);
      expect(readGitRevision(loose, {})).toBe(SHA);
      expect(readGitRevision(packed, {})).toBe(SHA);
      expect(readGitRevision(detached, {})).toBe(SHA);
      expect(readGitRevision(worktree, {})).toBe(SHA);
      expect(readGitRevision(none, { GITHUB_SHA: "f".repeat(40) })).toBe("f".repeat(40));
      expect(readGitRevision(none, {})).toBeUndefined();
    } finally {
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    }
  });

  test("source URL from GitHub env, or the origin remote without embedded credentials", () => {
    const dir = repo((g) =>
      writeFileSync(join(g, "config"), '[remote "origin"]\n\turl = https://user:s3cret@github.com/acme/app.git\n'),
    );
    try {
      expect(readSourceUrl(dir, { GITHUB_REPOSITORY: "acme/app" })).toBe("https://github.com/acme/app");
      expect(readSourceUrl(dir, {})).toBe("https://github.com/acme/app");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
