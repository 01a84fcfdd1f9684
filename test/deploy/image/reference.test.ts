import { describe, expect, test } from "bun:test";
import { ImageError } from "../../../deploy/image/errors.ts";
import { formatReference, parseReference } from "../../../deploy/image/reference.ts";

describe("parseReference", () => {
  test("Docker Hub short names normalise like the Docker CLI", () => {
    expect(parseReference("oven/bun:1.4.5-slim")).toEqual({
      registry: "registry-1.docker.io",
      repository: "oven/bun",
      tag: "1.4.5-slim",
      digest: undefined,
    });
    expect(parseReference("debian")).toMatchObject({ repository: "library/debian", tag: "latest" });
    expect(parseReference("docker.io/oven/bun:1").registry).toBe("registry-1.docker.io");
  });

  test("registries with ports and digests", () => {
    const d = `sha256:${"a".repeat(64)}`;
    expect(parseReference(`127.0.0.1:5000/apps/web@${d}`)).toEqual({
      registry: "127.0.0.1:5000",
      repository: "apps/web",
      tag: undefined,
      digest: d,
    });
    expect(parseReference("registry.fly.io/my-app:deployment-01H")).toMatchObject({
      registry: "registry.fly.io",
      repository: "my-app",
      tag: "deployment-01H",
    });
    expect(formatReference(parseReference(`localhost:5000/x@${d}`))).toBe(`localhost:5000/x@${d}`);
    expect(formatReference(parseReference("oven/bun:1"))).toBe("docker.io/oven/bun:1");
  });

  test.each(["", "UPPER/case", "a b", "x@sha256:123", "x:bad tag"])("rejects %p with invalid_reference", (input) => {
    let err: unknown;
    try {
      parseReference(input);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ImageError);
    expect((err as ImageError).code).toBe("invalid_reference");
  });
});
