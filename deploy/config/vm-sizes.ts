// Machine size presets and memory strings, as fly-go's `MachinePresets` and flyctl's `computeToGuest` read them.

export type CpuKind = "shared" | "performance";

export type Guest = {
  cpuKind: CpuKind;
  cpus: number;
  memoryMb: number;
  gpuKind?: string;
  gpus?: number;
  hostDedicationId?: string;
  kernelArgs?: string[];
  persistRootfs?: "never" | "always" | "restart";
};

const SHARED_MB_PER_CPU = 256;
const PERFORMANCE_MB_PER_CPU = 2048;

function shared(cpus: number): Guest {
  return { cpuKind: "shared", cpus, memoryMb: cpus * SHARED_MB_PER_CPU };
}
function performance(cpus: number): Guest {
  return { cpuKind: "performance", cpus, memoryMb: cpus * PERFORMANCE_MB_PER_CPU };
}
function gpu(gpuKind: string): Guest {
  return { cpuKind: "performance", cpus: 8, memoryMb: 16 * PERFORMANCE_MB_PER_CPU, gpuKind, gpus: 1 };
}

/**
 * fly-go `MachinePresets` (machine_types.go): shared-cpu-Nx = N shared CPUs with N x 256 MB; performance-Nx =
 * N CPUs with N x 2048 MB; the GPU sizes are 8 performance CPUs, 32 GB and one GPU.
 */
export const VM_PRESETS: Record<string, Guest> = {
  "shared-cpu-1x": shared(1),
  "shared-cpu-2x": shared(2),
  "shared-cpu-4x": shared(4),
  "shared-cpu-6x": shared(6),
  "shared-cpu-8x": shared(8),
  "performance-1x": performance(1),
  "performance-2x": performance(2),
  "performance-4x": performance(4),
  "performance-6x": performance(6),
  "performance-8x": performance(8),
  "performance-10x": performance(10),
  "performance-12x": performance(12),
  "performance-14x": performance(14),
  "performance-16x": performance(16),
  "a100-40gb": gpu("a100-pcie-40gb"),
  "a100-80gb": gpu("a100-sxm4-80gb"),
  l40s: gpu("l40s"),
  a10: gpu("a10"),
};

/** flyctl's default guest when `[[vm]]` names no size (fly.DefaultVMSize). */
export const DEFAULT_VM_SIZE = "shared-cpu-1x";
/** `[[vm]]` with a `gpu_kind` and no size starts from this one (fly.DefaultGPUVMSize). */
export const DEFAULT_GPU_VM_SIZE = "performance-8x";

const BINARY: Record<string, number> = {
  "": 1,
  b: 1,
  k: 1024,
  kb: 1024,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1024 ** 3,
  gib: 1024 ** 3,
};

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

/**
 * Limits from the Machines API docs and fly-go's MIN/MAX_MEMORY_MB_PER_*: memory in multiples of 256 MB; shared
 * 256-2048 MB per CPU, performance 2048-8192. GPU guests are sized by Fly per GPU kind, so they are not checked.
 */
export function guestProblems(g: Guest): string[] {
  const out: string[] = [];
  if (g.gpuKind !== undefined) return out;
  if (g.memoryMb % 256 !== 0) out.push(`memory ${g.memoryMb} MB is not a multiple of 256 MB`);
  const [lo, hi] = g.cpuKind === "shared" ? [256, 2048] : [2048, 8192];
  if (g.memoryMb < lo * g.cpus || g.memoryMb > hi * g.cpus) {
    out.push(
      `${g.cpus} ${g.cpuKind} CPU(s) need between ${lo * g.cpus} and ${hi * g.cpus} MB of memory, got ${g.memoryMb} MB`,
    );
  }
  return out;
}
