/** Volumes: list, read, create (never replayed blindly: names are not unique) and delete. @module */

import type { CreateVolumeRequest, Volume } from "../types.ts";
import { appParams, type Caller } from "./call.ts";

export function volumesApi({ callJson, callDelete }: Caller) {
  return {
    listVolumes(appName: string, opts: { signal?: AbortSignal } = {}): Promise<Volume[]> {
      return callJson<Volume[]>("listVolumes", { params: appParams(appName), signal: opts.signal });
    },

    getVolume(appName: string, volumeId: string, opts: { signal?: AbortSignal } = {}): Promise<Volume> {
      return callJson<Volume>("getVolume", { params: { app_name: appName, volume_id: volumeId }, signal: opts.signal });
    },

    /** Creates a volume. Not replayed after ambiguous failures (names are not unique; a replay could double it). */
    createVolume(
      appName: string,
      input: CreateVolumeRequest & { name: string; region: string },
      opts: { signal?: AbortSignal } = {},
    ): Promise<Volume> {
      return callJson<Volume>("createVolume", {
        params: appParams(appName),
        body: input,
        replay: "unsafe",
        signal: opts.signal,
      });
    },

    deleteVolume(appName: string, volumeId: string, opts: { signal?: AbortSignal } = {}): Promise<void> {
      return callDelete("deleteVolume", { params: { app_name: appName, volume_id: volumeId }, signal: opts.signal });
    },
  };
}
