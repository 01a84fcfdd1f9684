/**
 * Process helpers for the e2e check (the library itself never starts processes; tests may).
 * buildah runs as root with the vfs storage driver and chroot isolation: this machine (itself a
 * container) has no overlay-on-overlay and no user namespaces to spare, and those two settings need neither.
 */
export interface ShResult {
  stdout: string;
  stderr: string;
}

export const BUILDAH_ENV = { STORAGE_DRIVER: "vfs", BUILDAH_ISOLATION: "chroot" };

export async function sh(
  argv: string[],
  opts: { cwd?: string; quiet?: boolean; env?: Record<string, string> } = {},
): Promise<ShResult> {
  const proc = Bun.spawn(argv, {
    cwd: opts.cwd,
    env: { ...process.env, ...BUILDAH_ENV, ...opts.env },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  if (code !== 0) {
    throw new Error(
      `${argv.slice(0, 3).join(" ")} … exited ${code}\n${stderr.trim().split("\n").slice(-15).join("\n")}`,
    );
  }
  if (!opts.quiet && process.env.E2E_VERBOSE) process.stderr.write(stdout + stderr);
  return { stdout, stderr };
}

export function buildah(args: string[], opts: { cwd?: string; quiet?: boolean } = {}): Promise<ShResult> {
  return sh(["buildah", "--storage-driver", "vfs", ...args], opts);
}
