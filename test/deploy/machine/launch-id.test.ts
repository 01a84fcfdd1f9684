/**
 * The launch id is bookkeeping: a machine created with one is the machine the plan wanted, by digest and by
 * field diff, so a deploy after a create plans nothing for it.
 * @module
 */
import { expect, test } from "bun:test";
import { formatProblems, parseDeployConfig } from "../../../deploy/config/flytoml.ts";
import { LAUNCH_ID_KEY, launchIdOf, newLaunchId, withLaunchId } from "../../../deploy/machine/launch-id.ts";
import {
  buildMachineConfig,
  configDigest,
  METADATA,
  VOLATILE_METADATA_KEYS,
} from "../../../deploy/machine/machine-config.ts";
import { diffMachineConfigs } from "../../../deploy/plan/diff.ts";

const TOML = `
app = "demo"
primary_region = "ewr"
[http_service]
  internal_port = 8080
`;

function desired() {
  const parsed = parseDeployConfig(TOML);
  if (!parsed.ok) throw new Error(formatProblems(parsed.problems));
  return buildMachineConfig(parsed.config, { image: "registry.fly.io/demo:a", releaseVersion: 3 });
}

test("each create gets its own launch id, carried in the machine's metadata", () => {
  const a = newLaunchId();
  const b = newLaunchId();
  expect(a).not.toBe(b);
  const tagged = withLaunchId(desired(), a);
  expect(tagged.metadata?.[LAUNCH_ID_KEY]).toBe(a);
  expect(launchIdOf({ config: tagged })).toBe(a);
  // The desired config itself is left untagged (it is shared by every create of the plan).
  expect(desired().metadata?.[LAUNCH_ID_KEY]).toBeUndefined();
});

test("the digest of a tagged config is the desired one's, stored or recomputed", () => {
  expect(VOLATILE_METADATA_KEYS).toContain(LAUNCH_ID_KEY);
  const plain = desired();
  const tagged = withLaunchId(plain, newLaunchId());
  expect(configDigest(tagged)).toBe(configDigest(plain));
  expect(tagged.metadata?.[METADATA.configDigest]).toBe(plain.metadata?.[METADATA.configDigest]);
  // A field that matters still moves the digest: the comparison is not blind.
  expect(configDigest({ ...tagged, env: { ...tagged.env, EXTRA: "1" } })).not.toBe(configDigest(plain));
});

test("the plan's field diff does not show it", () => {
  const plain = desired();
  expect(diffMachineConfigs(withLaunchId(plain, newLaunchId()), plain)).toEqual([]);
  expect(diffMachineConfigs(plain, withLaunchId(plain, newLaunchId()))).toEqual([]);
});
