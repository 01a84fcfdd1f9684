import { describe, expect, test } from "bun:test";
import { isRunning, type PlacementInput, placeFile } from "../../../src/media/placement.ts";

const NOW = Date.parse("2026-12-01T08:00:00Z");
const STALE = 45_000;
const holder = (machineId: string, seenAgoMs = 1000, stopped = false) => ({
  id: "vol-b",
  machineId,
  region: "ewr",
  seenAt: new Date(NOW - seenAgoMs),
  stoppedAt: stopped ? new Date(NOW) : null,
  createdAt: new Date(0),
});
const input = (over: Partial<PlacementInput>): PlacementInput => ({
  file: { volumeId: "vol-b", machineId: "m-old" },
  volumeId: "vol-a",
  machineId: "m-a",
  holder: holder("m-b"),
  replayed: false,
  now: NOW,
  staleAfterMs: STALE,
  ...over,
});

describe("placeFile", () => {
  test("a file on this machine's volume is served here, replayed or not, whatever the volume table says", () => {
    expect(placeFile(input({ file: { volumeId: "vol-a", machineId: "m-gone" }, holder: undefined }))).toEqual({
      kind: "here",
    });
    expect(placeFile(input({ file: { volumeId: "vol-a", machineId: "m-a" }, replayed: true }))).toEqual({
      kind: "here",
    });
  });

  test("a file on another volume goes to the machine that holds that volume now, not the one that wrote it", () => {
    expect(placeFile(input({}))).toEqual({ kind: "replay", machineId: "m-b" });
  });

  test("never a replay to a machine that is stopped or silent for longer than the staleness bound", () => {
    for (const [label, h] of [
      ["stopped", holder("m-b", 10, true)],
      ["stale", holder("m-b", STALE + 1)],
      ["unknown", undefined],
    ] as const) {
      const placed = placeFile(input({ holder: h }));
      expect([label, placed.kind]).toEqual([label, "unavailable"]);
      if (placed.kind === "unavailable") expect([label, placed.code]).toEqual([label, "volume_unavailable"]);
    }
    expect(placeFile(input({ holder: holder("m-b", STALE) })).kind).toBe("replay");
  });

  test("a request the proxy brought back from a failed replay is not replayed again", () => {
    const placed = placeFile(input({ replayFailed: "instance=m-b;reason=timeout;elapsed_ms=5000" }));
    expect(placed).toMatchObject({ kind: "unavailable", code: "volume_unreachable" });
    if (placed.kind === "unavailable") expect(placed.message).toContain("(timeout)");
    const odd = placeFile(input({ replayFailed: "reason=<script>" }));
    if (odd.kind === "unavailable") expect(odd.message).toContain("(unknown)");
  });

  test("a replayed request is never replayed again", () => {
    const placed = placeFile(input({ replayed: true }));
    expect(placed).toMatchObject({
      kind: "unavailable",
      code: "file_not_on_this_volume",
      volumeId: "vol-b",
      machineId: "m-b",
    });
  });

  test("without a Fly machine id (no proxy) or with the holder being this machine, nothing is replayed", () => {
    expect(placeFile(input({ machineId: undefined })).kind).toBe("unavailable");
    expect(placeFile(input({ holder: holder("m-a") })).kind).toBe("unavailable");
  });

  test("a row from before volumes were recorded waits for its machine to claim it", () => {
    const placed = placeFile(input({ file: { volumeId: null, machineId: "m-old" } }));
    expect(placed).toMatchObject({ kind: "unavailable", code: "volume_not_recorded" });
    if (placed.kind === "unavailable") expect(placed.message).toContain("m-old");
  });

  test("isRunning: fresh and not stopped", () => {
    expect(isRunning(holder("x", 0), NOW, STALE)).toBe(true);
    expect(isRunning(holder("x", 0, true), NOW, STALE)).toBe(false);
    expect(isRunning(holder("x", STALE + 1), NOW, STALE)).toBe(false);
  });
});
