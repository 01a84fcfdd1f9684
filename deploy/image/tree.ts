import { lstatSync, readFileSync, readdirSync, readlinkSync } from "node:fs";
import { join } from "node:path";
import type { IgnoreMatcher } from "./dockerignore.ts";
import type { TarEntry } from "./tar.ts";

/**
 * Turn a directory into tar entries rooted at `prefix` (e.g. "app"). Modes are normalised to 0755/0644
 * (0755 when any execute bit is set) so a checkout's umask cannot change a layer digest; sockets,
 * fifos and devices are skipped because an image layer has no use for them.
 */
export function collectTree(root: string, opts: { prefix: string; ignore?: IgnoreMatcher }): TarEntry[] {
  const entries: TarEntry[] = [];
  const walk = (rel: string): boolean => {
    const abs = rel ? join(root, rel) : root;
    let included = false;
    for (const name of readdirSync(abs).sort()) {
      const childRel = rel ? `${rel}/${name}` : name;
      const ignored = opts.ignore?.ignores(childRel) ?? false;
      const st = lstatSync(join(abs, name));
      const path = `${opts.prefix}/${childRel}`;
      if (st.isDirectory()) {
        if (ignored && !opts.ignore?.hasExceptions) continue;
        const hasChildren = walk(childRel);
        if (!ignored || hasChildren) {
          entries.push({ path, type: "dir", mode: 0o755 });
          included = true;
        }
      } else if (ignored) {
      } else if (st.isFile()) {
        const mode = st.mode & 0o111 ? 0o755 : 0o644;
        entries.push({ path, type: "file", mode, data: readFileSync(join(abs, name)) });
        included = true;
      } else if (st.isSymbolicLink()) {
        entries.push({ path, type: "symlink", mode: 0o777, target: readlinkSync(join(abs, name)) });
        included = true;
      }
    }
    return included;
  };
  walk("");
  return entries;
}
