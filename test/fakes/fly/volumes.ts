// /v1/apps/{app}/volumes: volumes live in a region and a zone; `require_unique_zone` (default true, docs
// volumes create) refuses a zone already used by a volume of the same name (app-wide with
// `unique_zone_app_wide`), failing when the region has no free zone left.

import type { CreateVolumeRequest, Volume } from "../../../lib/fly/types.ts";
import { HttpError, json, validBody, type FakeContext } from "./context.ts";
import type { Route } from "./router.ts";
import { nowIso, randomHex } from "./state.ts";

export function volumeRoutes(ctx: FakeContext): Route[] {
  const base = "/v1/apps/:app/volumes";
  const findVolume = (volumes: Map<string, Volume>, id: string): Volume => {
    const volume = volumes.get(id);
    if (!volume || volume.state === "destroyed") throw new HttpError(404, `volume not found: ${id}`);
    return volume;
  };
  return [
    {
      method: "GET",
      path: base,
      handle: ({ app }) =>
        json([...app!.volumes.values()].filter((v) => v.state !== "destroyed").map((v) => ({ ...v }))),
    },
    {
      method: "POST",
      path: base,
      handle: ({ app, body }) => {
        const a = app!;
        const input = validBody<CreateVolumeRequest>(ctx, "CreateVolumeRequest", body);
        if (!input.name) throw new HttpError(400, "name is required");
        if (!/^[a-z0-9_]{1,30}$/.test(input.name))
          throw new HttpError(
            400,
            `invalid volume name "${input.name}": lowercase letters, digits and underscores, at most 30`,
          );
        const region = (input.region ?? ctx.options.defaultRegion).trim();
        if (!/^[a-z]{3}$/.test(region)) throw new HttpError(400, `unknown region "${input.region}"`);
        const sizeGb = input.size_gb ?? 3;
        if (!Number.isInteger(sizeGb) || sizeGb < 1 || sizeGb > 500)
          throw new HttpError(400, `size_gb must be 1..500, got ${sizeGb}`);
        const zones = Array.from({ length: ctx.options.zonesPerRegion }, (_, i) => `${region}${(i + 1).toString(16)}z`);
        const live = [...a.volumes.values()].filter((v) => v.state !== "destroyed" && v.region === region);
        const peers = input.unique_zone_app_wide ? live : live.filter((v) => v.name === input.name);
        const used = new Set(peers.map((v) => v.zone));
        const unique = input.require_unique_zone ?? true;
        const zone = unique ? zones.find((z) => !used.has(z)) : zones[live.length % zones.length];
        if (!zone) {
          throw new HttpError(
            422,
            `no zone left in ${region} for another volume named ${input.name}: set require_unique_zone=false`,
            "volume_placement_capacity",
          );
        }
        const volume: Volume = {
          id: `vol_${randomHex(16)}`,
          name: input.name,
          state: "created",
          size_gb: sizeGb,
          region,
          zone,
          encrypted: input.encrypted ?? true,
          created_at: nowIso(),
          fstype: input.fstype ?? "ext4",
          snapshot_retention: input.snapshot_retention ?? 5,
          auto_backup_enabled: input.auto_backup_enabled ?? true,
          host_status: "ok",
          type: "local",
          block_size: 4096,
          blocks: sizeGb * 262144,
          blocks_free: sizeGb * 262144,
          blocks_avail: sizeGb * 262144,
          bytes_total: sizeGb * 1073741824,
          bytes_used: 0,
        };
        a.volumes.set(volume.id!, volume);
        return json({ ...volume });
      },
    },
    {
      method: "GET",
      path: `${base}/:volume`,
      handle: ({ app, params }) => json({ ...findVolume(app!.volumes, params.volume!) }),
    },
    {
      method: "DELETE",
      path: `${base}/:volume`,
      handle: ({ app, params }) => {
        const volume = findVolume(app!.volumes, params.volume!);
        if (volume.attached_machine_id) {
          const machine = app!.machines.get(volume.attached_machine_id);
          if (machine && machine.state !== "destroyed") {
            throw new HttpError(
              412,
              `failed_precondition: volume ${volume.id} is attached to machine ${machine.id}; destroy the machine first`,
            );
          }
        }
        volume.state = "destroyed";
        return json({ ...volume });
      },
    },
  ];
}
