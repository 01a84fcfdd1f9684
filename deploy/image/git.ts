import { existsSync, readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";

/**
 * The commit being built, read from .git directly (no `git` process): HEAD, then the loose ref or
 * packed-refs; worktrees point at their gitdir via a `.git` file and share refs through `commondir`.
 * Falls back to GITHUB_SHA (set by GitHub Actions) when there is no readable repository.
 */
export function readGitRevision(
  dir: string,
  env: Record<string, string | undefined> = process.env,
): string | undefined {
  try {
    const gitDir = findGitDir(dir);
    if (gitDir) {
      const head = readFileSync(join(gitDir, "HEAD"), "utf8").trim();
      if (/^[0-9a-f]{40}$/.test(head)) return head;
      const ref = /^ref:\s*(.+)$/.exec(head)?.[1];
      if (ref) {
        const common = existsSync(join(gitDir, "commondir"))
          ? resolve(gitDir, readFileSync(join(gitDir, "commondir"), "utf8").trim())
          : gitDir;
        for (const base of [gitDir, common]) {
          const loose = join(base, ref);
          if (existsSync(loose)) return readFileSync(loose, "utf8").trim();
        }
        const packed = join(common, "packed-refs");
        if (existsSync(packed)) {
          for (const line of readFileSync(packed, "utf8").split("\n")) {
            const [sha, name] = line.split(" ");
            if (name === ref && sha && /^[0-9a-f]{40}$/.test(sha)) return sha;
          }
        }
      }
    }
  } catch {
    // unreadable repository: fall through to the CI variable
  }
  return env.GITHUB_SHA || undefined;
}

/** Where the source lives, for org.opencontainers.image.source. */
export function readSourceUrl(dir: string, env: Record<string, string | undefined> = process.env): string | undefined {
  if (env.GITHUB_REPOSITORY) return `${env.GITHUB_SERVER_URL || "https://github.com"}/${env.GITHUB_REPOSITORY}`;
  try {
    const pj = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as {
      repository?: string | { url?: string };
    };
    const url = typeof pj.repository === "string" ? pj.repository : pj.repository?.url;
    if (url) return url.replace(/^git\+/, "").replace(/\.git$/, "");
  } catch {
    // no package.json: try the git remote
  }
  try {
    const gitDir = findGitDir(dir);
    if (!gitDir) return undefined;
    const config = readFileSync(join(gitDir, "config"), "utf8");
    const url = /\[remote "origin"\][^[]*?url\s*=\s*(\S+)/.exec(config)?.[1];
    if (!url) return undefined;
    // Never leak credentials embedded in a remote URL.
    return url
      .replace(/\/\/[^@/]+@/, "//")
      .replace(/^git@([^:]+):/, "https://$1/")
      .replace(/\.git$/, "");
  } catch {
    return undefined;
  }
}

function findGitDir(dir: string): string | undefined {
  const dotGit = join(dir, ".git");
  if (!existsSync(dotGit)) return undefined;
  if (statSync(dotGit).isDirectory()) return dotGit;
  const pointer = /^gitdir:\s*(.+)$/m.exec(readFileSync(dotGit, "utf8"))?.[1];
  return pointer ? resolve(dir, pointer.trim()) : undefined;
}
