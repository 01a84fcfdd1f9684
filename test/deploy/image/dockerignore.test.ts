import { describe, expect, test } from "bun:test";
import { parseDockerignore } from "../../../deploy/image/dockerignore.ts";

describe("parseDockerignore (Docker's rules)", () => {
  const m = parseDockerignore(`
# comment
/.git
node_modules
*.log
**/*.test.ts
docs/**
!docs/keep.md
test
.env*
tmp?
`);
  test.each([
    [".git/config", true],
    ["node_modules", true],
    ["node_modules/elysia/index.js", true],
    ["src/node_modules/x", false], // patterns are anchored at the context root
    ["app.log", true],
    ["src/app.log", false], // "*" does not cross "/"
    ["src/a/b.test.ts", true],
    ["a.test.ts", true], // "**/" also matches zero directories
    ["docs/guide.md", true],
    ["docs/keep.md", false], // later "!" wins
    ["test/app.test.ts", true],
    [".env.production", true],
    ["tmp1", true],
    ["tmp12", false],
    ["src/server.ts", false],
    ["./src/../.git/HEAD", true], // paths are cleaned first
  ])("%s ignored=%p", (path, ignored) => {
    expect(m.ignores(path)).toBe(ignored);
  });

  test("reports whether exceptions exist (excluded dirs must still be walked)", () => {
    expect(m.hasExceptions).toBe(true);
    expect(parseDockerignore("node_modules\n").hasExceptions).toBe(false);
  });
});
