import type { BuiltLayer } from "./layer.ts";
import type { ImageConfig } from "./oci.ts";

export interface RuntimeSettings {
  user: string;
  workingDir: string;
  cmd: string[];
  env: Record<string, string>;
  exposedPorts: string[];
  labels: Record<string, string>;
  /** RFC 3339; fixed (not "now") so the same inputs give the same config digest. */
  created: string;
}

export const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/**
 * The image config = the base's config with our runtime settings on top, the way a Dockerfile's
 * ENV/USER/WORKDIR/CMD/EXPOSE/LABEL would apply them. The base ENTRYPOINT is kept (oven/bun's
 * docker-entrypoint.sh just execs its arguments), exactly as `FROM oven/bun` keeps it.
 */
export function composeConfig(base: ImageConfig, layers: BuiltLayer[], settings: RuntimeSettings): ImageConfig {
  const baseConfig = base.config ?? {};
  const env = new Map<string, string>();
  for (const item of baseConfig.Env ?? []) {
    const eq = item.indexOf("=");
    if (eq > 0) env.set(item.slice(0, eq), item.slice(eq + 1));
  }
  if (!env.has("PATH")) env.set("PATH", DEFAULT_PATH);
  for (const [k, v] of Object.entries(settings.env)) env.set(k, v);

  const ports: Record<string, object> = { ...(baseConfig.ExposedPorts ?? {}) };
  for (const p of settings.exposedPorts) ports[p] = {};

  const { Cmd: _cmd, Entrypoint, ...inherited } = baseConfig;
  return {
    created: settings.created,
    architecture: "amd64",
    os: "linux",
    config: {
      ...inherited,
      User: settings.user,
      Env: [...env].map(([k, v]) => `${k}=${v}`),
      ...(Entrypoint ? { Entrypoint } : {}),
      Cmd: settings.cmd,
      WorkingDir: settings.workingDir,
      ExposedPorts: ports,
      Labels: { ...(baseConfig.Labels ?? {}), ...settings.labels },
    },
    rootfs: { type: "layers", diff_ids: [...base.rootfs.diff_ids, ...layers.map((l) => l.diffId)] },
    history: [
      ...(base.history ?? []),
      ...layers.map((l) => ({ created: settings.created, created_by: "flightdeck deploy/image", comment: l.comment })),
    ],
  };
}
