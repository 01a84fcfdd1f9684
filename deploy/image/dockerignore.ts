/**
 * `.dockerignore` semantics as Docker implements them (moby/patternmatcher): patterns are relative to
 * the context root, `!` re-includes, the LAST matching pattern wins, `**` spans directories, and a
 * pattern that matches a directory also excludes everything below it.
 * https://docs.docker.com/build/concepts/context/#dockerignore-files
 */
interface Rule {
  regex: RegExp;
  exclude: boolean;
}

export interface IgnoreMatcher {
  ignores(path: string): boolean;
  /** True if some `!` rule exists, so an excluded directory must still be walked. */
  hasExceptions: boolean;
}

export function parseDockerignore(text: string): IgnoreMatcher {
  const rules: Rule[] = [];
  for (const raw of text.split(/\r?\n/)) {
    let line = raw.trim();
    if (!line || line.startsWith("#")) continue;
    let exclude = true;
    if (line.startsWith("!")) {
      exclude = false;
      line = line.slice(1).trim();
    }
    line = cleanPath(line);
    if (!line) continue;
    rules.push({ regex: patternToRegex(line), exclude });
  }
  const hasExceptions = rules.some((r) => !r.exclude);
  return {
    hasExceptions,
    ignores(path: string) {
      const clean = cleanPath(path);
      const parents = parentPaths(clean);
      let ignored = false;
      for (const rule of rules) {
        // A rule applies to the path itself or to any directory containing it.
        const matches = rule.regex.test(clean) || parents.some((p) => rule.regex.test(p));
        if (matches) ignored = rule.exclude;
      }
      return ignored;
    },
  };
}

function cleanPath(p: string): string {
  const parts: string[] = [];
  for (const part of p.replace(/\\/g, "/").split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") parts.pop();
    else parts.push(part);
  }
  return parts.join("/");
}

function parentPaths(p: string): string[] {
  const parts = p.split("/");
  const out: string[] = [];
  for (let i = 1; i < parts.length; i++) out.push(parts.slice(0, i).join("/"));
  return out;
}

/** Go filepath.Match syntax plus `**`, anchored at both ends. */
function patternToRegex(pattern: string): RegExp {
  let re = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === "*") {
      if (pattern[i + 1] === "*") {
        i++;
        if (pattern[i + 1] === "/") {
          i++;
          re += "(?:.*/)?";
        } else {
          re += ".*";
        }
      } else {
        re += "[^/]*";
      }
    } else if (c === "?") {
      re += "[^/]";
    } else if (c === "[") {
      const end = pattern.indexOf("]", i + 1);
      if (end < 0) {
        re += "\\[";
      } else {
        let cls = pattern.slice(i + 1, end);
        if (cls.startsWith("^") || cls.startsWith("!")) cls = `^${cls.slice(1)}`;
        re += `[${cls.replace(/\\/g, "\\\\")}]`;
        i = end;
      }
    } else if (c === "\\" && i + 1 < pattern.length) {
      i++;
      re += escapeRegex(pattern[i]!);
    } else {
      re += escapeRegex(c);
    }
  }
  return new RegExp(`^${re}$`);
}

function escapeRegex(c: string): string {
  return /[.+^${}()|[\]\\/]/.test(c) ? `\\${c}` : c;
}
