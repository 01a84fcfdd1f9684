// Machine size presets and memory strings, as fly-go's `MachinePresets` and flyctl's `computeToGuest` read them.

export type CpuKind = "shared" | "performance";

export type Guest = { cpuKind: CpuKind; cpus: number; memoryMb: number };

/** fly-go MachinePresets: shared-cpu-Nx = N shared CPUs with N x 256 MB; performance-Nx = N CPUs with N x 2048 MB. */
export const VM_PRESETS: Record<string, Guest> = {
  "shared-cpu-1x": { cpuKind: "shared", cpus: 1, memoryMb: 256 },
  "shared-cpu-2x": { cpuKind: "shared", cpus: 2, memoryMb: 512 },
  "shared-cpu-4x": { cpuKind: "shared", cpus: 4, memoryMb: 1024 },
  "shared-cpu-8x": { cpuKind: "shared", cpus: 8, memoryMb: 2048 },
  "performance-1x": { cpuKind: "performance", cpus: 1, memoryMb: 2048 },
  "performance-2x": { cpuKind: "performance", cpus: 2, memoryMb: 4096 },
  "performance-4x": { cpuKind: "performance", cpus: 4, memoryMb: 8192 },
  "performance-8x": { cpuKind: "performance", cpus: 8, memoryMb: 16384 },
  "performance-16x": { cpuKind: "performance", cpus: 16, memoryMb: 32768 },
};

/** flyctl's default guest when `[[vm]]` names no size (fly.DefaultVMSize). */
export const DEFAULT_VM_SIZE = "shared-cpu-1x";

const BINARY: Record<string, number> = { "": 1, b: 1, k: 1024, kb: 1024, kib: 1024, m: 1024 ** 2, mb: 1024 ** 2, mib: 1024 ** 2, g: 1024 ** 3, gb: 1024 ** 3, gib: 1024 ** 3 };

/**
 * fly.toml `memory`: a bare integer is MiB (`strconv.Atoi` first in flyctl's `helpers.ParseSize`); a string with
 * a unit goes through docker's `RAMInBytes`, which treats every unit as binary ("1gb" = 1024 MiB).
 */
export function parseMemoryMb(value: number | string): number | null {
  if (typeof value === "number") return Number.isInteger(value) && value > 0 ? value : null;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(value.trim());
  if (!m) return null;
  const factor = BINARY[(m[2] ?? "").toLowerCase()];
  if (factor === undefined) return null;
  const mb = Math.floor((Number(m[1]) * factor) / 1024 ** 2);
  return mb > 0 ? mb : null;
}

const DECIMAL: Record<string, number> = { gb: 1, g: 1, tb: 1000, t: 1000 };

/** `[mounts] initial_size`: an integer is GB; strings use docker's decimal `FromHumanSize` ("10gb"). */
export function parseVolumeSizeGb(value: number | string): number | null {
  if (typeof value === "number") return Number.isInteger(value) && value > 0 ? value : null;
  const m = /^(\d+)\s*([a-z]*)$/i.exec(value.trim());
  if (!m) return null;
  const unit = (m[2] ?? "").toLowerCase();
  const factor = unit === "" ? 1 : DECIMAL[unit];
  if (factor === undefined) return null;
  const gb = Number(m[1]) * factor;
  return gb > 0 ? gb : null;
}

/** Limits from the Machines API docs: memory in multiples of 256 MB; shared 256-2048 MB per CPU, performance 2048-8192. */
export function guestProblems(g: Guest): string[] {
  const out: string[] = [];
  if (g.memoryMb % 256 !== 0) out.push(`memory ${g.memoryMb} MB is not a multiple of 256 MB`);
  const [lo, hi] = g.cpuKind === "shared" ? [256, 2048] : [2048, 8192];
  if (g.memoryMb < lo * g.cpus || g.memoryMb > hi * g.cpus) {
    out.push(`${g.cpus} ${g.cpuKind} CPU(s) need between ${lo * g.cpus} and ${hi * g.cpus} MB of memory, got ${g.memoryMb} MB`);
  }
  return out;
}
