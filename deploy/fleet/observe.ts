// Reads the live state of an app into the planner's ObservedState. Read-only: a plan, a no-op deploy and
// `status` all start here, so nothing in this file may mutate (the no-op floor is zero mutating calls).

import { parseSecretDigests, SECRETS_KEY } from "../plan/secrets-diff.ts";
import { isFlyApiError } from "../../lib/fly/errors.ts";
import type { FlyClient } from "../../lib/fly/client.ts";
import type { IpAssignment, Machine, Volume } from "../../lib/fly/types.ts";
import { isAnchor } from "./lock.ts";
import { METADATA, parseGroupSizes } from "../machine/machine-config.ts";
import type { IpKind, ObservedIp, ObservedMachine, ObservedState, ObservedVolume } from "../plan/types.ts";
import { isLive } from "./members.ts";

export interface ObservedApp {
  state: ObservedState;
  /** The raw machines, for apply (it needs each machine's live config to update or restore it). */
  machines: Machine[];
  /** The fleet lock's anchor machine, when the app has one (fleet-lock.ts); not part of the fleet. */
  anchor?: Machine;
}

/**
 * What this run knows from its own answers, to reconcile an eventually consistent list with: the Machines API
 * list lags writes (fly-machines-api.md §2: flyctl's preflight tests sleep because "fly m list is eventually
 * consistent"), so a machine we created may be missing and one we destroyed still listed as `destroying`.
 */
export interface KnownMachines {
  /** Machines this run created or updated: GET by id when the list lacks them. */
  ids: ReadonlySet<string>;
  /** Machines this run destroyed: gone, whatever the list still says. */
  destroyed: ReadonlySet<string>;
}

export async function observe(
  client: FlyClient,
  appName: string,
  opts: { signal?: AbortSignal; known?: KnownMachines } = {},
): Promise<ObservedApp> {
  const signal = opts.signal;
  let org: string | undefined;
  try {
    const app = await client.getApp(appName, { signal });
    org = app.organization?.slug;
  } catch (error) {
    // 404: no such app (yet). 403 would mean "exists but not yours", which must surface, not read as absent.
    if (isFlyApiError(error) && error.status === 404) {
      return {
        state: { app: { exists: false }, ips: [], secrets: { names: [] }, volumes: [], machines: [] },
        machines: [],
      };
    }
    throw error;
  }
  // Independent reads: in parallel, so observing costs one round trip rather than four.
  const [ips, secrets, volumes, listed] = await Promise.all([
    client.listIpAssignments(appName, { signal }),
    client.listSecrets(appName, { signal }),
    client.listVolumes(appName, { signal }),
    client.listMachines(appName, { signal }),
  ]);
  const machines = opts.known ? await reconcile(client, appName, listed, opts.known, signal) : listed;
  // The fleet lock's anchor machine is the lock, not part of the fleet (fleet-lock.ts).
  const present = machines.filter(isLive);
  const live = present.filter((m) => !isAnchor(m));
  const anchor = present.find(isAnchor);
  const observedMachines = live.map(toObservedMachine);
  const names = secrets.map((s) => s.name ?? "").filter((n) => n !== "");
  const digests: Record<string, string> = {};
  for (const s of secrets) if (s.name && s.digest) digests[s.name] = s.digest;
  const version = latestSecretsVersion(observedMachines);
  return {
    state: {
      app: { exists: true, name: appName, ...(org ? { org } : {}) },
      ips: ips.map(toObservedIp),
      secrets: { names: names.sort(), digests, ...(version !== undefined ? { version } : {}) },
      volumes: volumes
        .filter((v) => v.state !== "destroyed" && v.state !== "destroying" && v.state !== "pending_destroy")
        .map(toObservedVolume),
      machines: observedMachines,
    },
    machines: live,
    ...(anchor ? { anchor } : {}),
  };
}

/** The list, less what we destroyed, plus what we made or changed that it does not show yet (read by id). */
export async function reconcile(
  client: FlyClient,
  appName: string,
  listed: Machine[],
  known: KnownMachines,
  signal: AbortSignal | undefined,
): Promise<Machine[]> {
  const kept = listed.filter((m) => !known.destroyed.has(m.id ?? ""));
  const seen = new Set(kept.map((m) => m.id));
  const missing = [...known.ids].filter((id) => !seen.has(id) && !known.destroyed.has(id));
  const fetched = await Promise.all(
    missing.map((id) =>
      client.getMachine(appName, id, { signal }).catch((error: unknown) => {
        // Gone by id too (destroyed by someone else, auto_destroy): not part of the fleet.
        if (isFlyApiError(error) && error.status === 404) return undefined;
        throw error;
      }),
    ),
  );
  return [...kept, ...fetched.filter((m): m is Machine => m !== undefined)];
}

/**
 * The Machines API does not report the app's secrets version on reads (only a write returns it), and
 * flyctl keeps it in ~/.fly/config.yml, which CI does not have. We record it on every machine we create
 * or update (metadata flightdeck_secrets_version), so the newest of those is the best read-only answer.
 */
function latestSecretsVersion(machines: ObservedMachine[]): number | undefined {
  let best: number | undefined;
  for (const m of machines)
    if (m.secretsVersion !== undefined && (best === undefined || m.secretsVersion > best)) best = m.secretsVersion;
  return best;
}

export function toObservedMachine(m: Machine): ObservedMachine {
  const metadata = m.config?.metadata ?? {};
  const secretsVersion = Number(metadata[METADATA.secretsVersion]);
  const out: ObservedMachine = {
    id: m.id ?? "",
    region: m.region ?? "",
    state: m.state ?? "unknown",
    image: m.config?.image ?? "",
  };
  const platformVersion = metadata[METADATA.platformVersion];
  if (platformVersion !== undefined) out.platformVersion = platformVersion;
  const group = metadata[METADATA.processGroup];
  if (group !== undefined) out.processGroup = group;
  const digest = metadata[METADATA.configDigest];
  if (digest !== undefined) out.configDigest = digest;
  const release = metadata[METADATA.releaseVersion];
  if (release !== undefined) out.releaseVersion = release;
  if (Number.isFinite(secretsVersion) && metadata[METADATA.secretsVersion] !== undefined)
    out.secretsVersion = secretsVersion;
  const secretDigests = parseSecretDigests(metadata[SECRETS_KEY]);
  if (secretDigests) out.secretDigests = secretDigests;
  const fleetSize = Number(metadata[METADATA.fleetSize]);
  if (Number.isInteger(fleetSize) && fleetSize >= 1) out.fleetSize = fleetSize;
  const groupSizes = metadata[METADATA.groupSizes];
  if (groupSizes !== undefined) out.groupSizes = parseGroupSizes(groupSizes);
  const volumeId = m.config?.mounts?.[0]?.volume;
  if (volumeId) out.volumeId = volumeId;
  if (typeof m.cordoned === "boolean") out.cordoned = m.cordoned;
  if (metadata[METADATA.deployCordon] !== undefined) out.deployCordon = true;
  return out;
}

function toObservedVolume(v: Volume): ObservedVolume {
  const out: ObservedVolume = {
    id: v.id ?? "",
    name: v.name ?? "",
    region: v.region ?? "",
    state: v.state ?? "created",
  };
  if (v.zone) out.zone = v.zone;
  out.attachedMachineId = v.attached_machine_id ? v.attached_machine_id : null;
  if (v.size_gb !== undefined) out.sizeGb = v.size_gb;
  if (v.host_status) out.hostStatus = v.host_status;
  return out;
}

export function ipKind(ip: IpAssignment): IpKind {
  const address = ip.ip ?? "";
  if (ip.egress) return "egress";
  // Flycast (private_v6) addresses live in Fly's fdaa::/16 6PN range (fly-machines-api.md §8).
  if (address.toLowerCase().startsWith("fdaa:")) return "private_v6";
  return address.includes(":") ? "public_v6" : "public_v4";
}

function toObservedIp(ip: IpAssignment): ObservedIp {
  return { address: ip.ip ?? "", kind: ipKind(ip) };
}
