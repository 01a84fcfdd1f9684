/**
 * Why a managed machine is updated (plan.ts): its image, its config digest, its secrets, or its state. Secrets are
 * behind when the app's secrets version is newer than the one the machine was given, or, when the version cannot
 * tell (a write made with another tool, which Flightdeck's version read does not see: observe.ts
 * latestSecretsVersion), when the names and digests it records differ from the app's (secrets-diff.ts). A machine
 * that records no names is judged by the version alone: nothing is inferred for it. Pure.
 * @module
 */

import { secretChanges } from "./secrets-diff.ts";
import type { DesiredState, ObservedMachine, ObservedState, UpdateCause } from "./types.ts";

type AppSecrets = ObservedState["secrets"];

export function shortDigest(s: string | undefined): string {
  return s === undefined ? "none" : s.length > 12 ? s.slice(0, 12) : s;
}

function versionBehind(m: ObservedMachine, secrets: AppSecrets): boolean {
  const v = secrets.version;
  return v !== undefined && (m.secretsVersion === undefined || m.secretsVersion < v);
}

export function updateCauses(m: ObservedMachine, d: DesiredState, secrets: AppSecrets): UpdateCause[] {
  const causes: UpdateCause[] = [];
  if (m.image !== d.image) causes.push("image");
  if (m.configDigest !== d.configDigest) causes.push("config");
  if (versionBehind(m, secrets) || secretChanges(m.secretDigests, secrets).length > 0) causes.push("secrets");
  if (m.state === "failed") causes.push("failed");
  return causes;
}

export function describeCauses(
  m: ObservedMachine,
  d: DesiredState,
  causes: UpdateCause[],
  secrets: AppSecrets,
): string {
  const parts = causes.map((c) => {
    if (c === "image") return `image ${m.image} -> ${d.image}`;
    if (c === "config") return `config ${shortDigest(m.configDigest)} -> ${shortDigest(d.configDigest)}`;
    if (c === "failed") return "machine is failed: relaunched by the update";
    if (versionBehind(m, secrets)) return `secrets v${m.secretsVersion ?? "?"} -> v${secrets.version}`;
    return "secrets changed since its last update";
  });
  return parts.join("; ");
}
