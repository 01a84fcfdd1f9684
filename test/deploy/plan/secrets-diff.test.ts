/** The pure secret-name diff (deploy/plan/secrets-diff.ts): names and digest prefixes in, changes out, never a value. @module */
import { expect, test } from "bun:test";
import {
  encodeSecretDigests,
  formatSecretChange,
  parseSecretDigests,
  secretChanges,
} from "../../../deploy/plan/secrets-diff.ts";
import { describeCauses, updateCauses } from "../../../deploy/plan/causes.ts";
import type { DesiredState, ObservedMachine } from "../../../deploy/plan/types.ts";

const app = { names: ["B", "A", "C"], digests: { A: "a".repeat(64), B: "b".repeat(64) } };

test("what a machine records: sorted names, 16-character digest prefixes, '' when Fly gave none", () => {
  expect(JSON.parse(encodeSecretDigests(app))).toEqual({ A: "a".repeat(16), B: "b".repeat(16), C: "" });
  expect(parseSecretDigests(encodeSecretDigests(app))).toEqual({ A: "a".repeat(16), B: "b".repeat(16), C: "" });
  for (const bad of [undefined, "nope", "[1]", "null"]) expect(parseSecretDigests(bad)).toBeUndefined();
});

test("added, removed, changed; an unknown digest is not a change; a machine without a record shows nothing", () => {
  const recorded = { A: "a".repeat(16), B: "x".repeat(16), C: "c".repeat(16), D: "d".repeat(16) };
  const changes = secretChanges(recorded, { names: ["A", "B", "C", "E"], digests: app.digests });
  expect(changes).toEqual([
    { path: "secrets.B", before: `digest ${"x".repeat(16)}`, after: `digest ${"b".repeat(16)}` },
    { path: "secrets.D", before: "set", after: "unset" },
    { path: "secrets.E", before: "unset", after: "set" },
  ]);
  expect(changes.map(formatSecretChange)).toEqual(["secrets: ~ B", "secrets: - D", "secrets: + E"]);
  expect(secretChanges(undefined, app)).toEqual([]);
  expect(formatSecretChange({ path: "env.X", before: null, after: "1" })).toBeUndefined();
});

test("update causes: a newer version, or recorded names that differ; a machine without a record only by version", () => {
  const d = { image: "i", configDigest: "c" } as DesiredState;
  const m: ObservedMachine = {
    id: "m1",
    region: "ewr",
    state: "started",
    image: "i",
    configDigest: "c",
    secretsVersion: 2,
  };
  const now = { names: ["A"], digests: { A: "a".repeat(64) }, version: 2 };
  expect(updateCauses({ ...m, secretDigests: { A: "a".repeat(16) } }, d, now)).toEqual([]);
  const moved = { ...m, secretDigests: { A: "x".repeat(16) } };
  expect(updateCauses(moved, d, now)).toEqual(["secrets"]);
  expect(describeCauses(moved, d, ["secrets"], now)).toBe("secrets changed since its last update");
  expect(updateCauses(m, d, now)).toEqual([]);
  expect(describeCauses(m, d, ["secrets"], { ...now, version: 3 })).toBe("secrets v2 -> v3");
});
