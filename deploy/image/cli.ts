import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { dockerBuildOf, parseDeployConfig } from "../config/flytoml.ts";
import { buildImage } from "./build.ts";
import { ImageError } from "./errors.ts";
import { RegistryPool } from "./pool.ts";
import { pushImage, type PushResult } from "./push.ts";
import { TOKEN_HELP } from "../../lib/fly/token-help.ts";

export interface ImageCommandIo {
  stdout(text: string): void;
  stderr(text: string): void;
  env?: Record<string, string | undefined>;
  cwd?: string;
}

const USAGE = `usage: image build [--push] [--json] [--app NAME] [--config fly.toml] [--tag TAG] [--base REF] [--registry HOST]
  Builds the OCI image without a Docker daemon; with --push sends it to FLY_REGISTRY (default registry.fly.io)
  using FLY_API_TOKEN. Prints the image reference pinned by digest.`;

/**
 * `image build [--push] [--json]`. Accepts argv with or without the leading "image".
 * Returns the exit status: 0 done, 1 the build or push failed, 2 usage or configuration error.
 */
export async function imageCommand(argv: string[], io: ImageCommandIo): Promise<number> {
  const env = io.env ?? process.env;
  const args = argv[0] === "image" ? argv.slice(1) : [...argv];
  const parsed = parseArgs(args);
  if ("error" in parsed) {
    io.stderr(`${parsed.error}\n${USAGE}\n`);
    return 2;
  }
  const { flags } = parsed;
  const projectDir = resolve(io.cwd ?? process.cwd());
  const registry = flags.registry ?? (env.FLY_REGISTRY || "registry.fly.io");
  const app = flags.app ?? appFromConfig(projectDir, flags.config ?? "fly.toml");
  if (!app) {
    io.stderr(`no app name: pass --app NAME or set \`app\` in ${flags.config ?? "fly.toml"}\n`);
    return 2;
  }
  const dockerBuild = dockerBuildFromConfig(projectDir, flags.config ?? "fly.toml");
  if (dockerBuild) {
    io.stderr(
      `${flags.config ?? "fly.toml"} says this app is built with ${dockerBuild}; the daemonless builder builds this Bun project only and would not honour it.\n` +
        "Build and push that image where Docker runs, then deploy it with `bun deploy/run.ts deploy --image REF`.\n",
    );
    return 2;
  }
  const token = env.FLY_API_TOKEN;
  if (flags.push && !token) {
    io.stderr(`FLY_API_TOKEN is not set (or build without --push): ${TOKEN_HELP}\n`);
    return 2;
  }
  const pool = new RegistryPool(token ? { [registry]: { username: "x", password: token } } : {});
  const cacheDir = join(projectDir, ".cache", "image");
  try {
    const started = performance.now();
    const image = await buildImage({ projectDir, base: flags.base, pool, cacheDir, env });
    io.stderr(
      `built ${image.manifestDigest} on ${image.base.pinned} in ${Math.round(performance.now() - started)} ms\n`,
    );
    let pushed: PushResult | undefined;
    if (flags.push) {
      const tag = flags.tag ?? `deployment-${deploymentId()}`;
      pushed = await pushImage(image, { registry, repository: app, tag, pool, cacheDir });
      io.stderr(`pushed ${pushed.tagged}: ${pushed.uploadedBytes} bytes uploaded\n`);
    }
    const reference = pushed?.reference ?? `${registry}/${app}@${image.manifestDigest}`;
    if (flags.json) {
      io.stdout(
        `${JSON.stringify({
          reference,
          digest: image.manifestDigest,
          pushed: !!pushed,
          tagged: pushed?.tagged,
          uploadedBytes: pushed?.uploadedBytes,
          base: image.base.pinned,
          layers: image.layers.map((l) => ({ digest: l.digest, size: l.size, comment: l.comment })),
        })}\n`,
      );
    } else {
      io.stdout(`${reference}\n`);
    }
    return 0;
  } catch (err) {
    if (err instanceof ImageError) {
      io.stderr(`image build failed [${err.code}]: ${err.message}\n`);
      if (flags.json) io.stdout(`${JSON.stringify({ error: err.toJSON() })}\n`);
      return err.code === "invalid_input" || err.code === "invalid_reference" ? 2 : 1;
    }
    throw err;
  }
}

interface Flags {
  push?: boolean;
  json?: boolean;
  app?: string;
  config?: string;
  tag?: string;
  base?: string;
  registry?: string;
}

function parseArgs(args: string[]): { flags: Flags } | { error: string } {
  if (args[0] !== "build") return { error: args[0] ? `unknown image subcommand "${args[0]}"` : "missing subcommand" };
  const flags: Flags = {};
  for (let i = 1; i < args.length; i++) {
    const arg = args[i]!;
    const [name, inline] =
      arg.startsWith("--") && arg.includes("=")
        ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)]
        : [arg, undefined];
    if (name === "--push" || name === "--json") {
      flags[name === "--push" ? "push" : "json"] = true;
      continue;
    }
    const options: Record<string, "app" | "config" | "tag" | "base" | "registry"> = {
      "--app": "app",
      "--config": "config",
      "--tag": "tag",
      "--base": "base",
      "--registry": "registry",
    };
    const key = options[name];
    if (!key) return { error: `unknown option "${arg}"` };
    const value = inline ?? args[++i];
    if (!value || value.startsWith("--")) return { error: `${name} needs a value` };
    if (key === "tag" && !/^[\w][\w.-]{0,127}$/.test(value)) return { error: `--tag "${value}" is not a valid tag` };
    flags[key] = value;
  }
  return { flags };
}

function appFromConfig(dir: string, configPath: string): string | undefined {
  const path = resolve(dir, configPath);
  if (!existsSync(path)) return undefined;
  try {
    const parsed = Bun.TOML.parse(readFileSync(path, "utf8")) as { app?: unknown };
    return typeof parsed.app === "string" && parsed.app ? parsed.app : undefined;
  } catch {
    return undefined;
  }
}

/** How fly.toml's [build] asks for Docker or buildpacks (flytoml.ts dockerBuildOf), when it does. */
function dockerBuildFromConfig(dir: string, configPath: string): string | undefined {
  const path = resolve(dir, configPath);
  if (!existsSync(path)) return undefined;
  const parsed = parseDeployConfig(readFileSync(path, "utf8"), { path });
  return parsed.config ? dockerBuildOf(parsed.config.build) : undefined;
}

/** Sortable and unique enough per app: milliseconds in base36 plus randomness (flyctl uses a ULID). */
function deploymentId(): string {
  return `${Date.now().toString(36)}${crypto.getRandomValues(new Uint8Array(4)).reduce((s, b) => s + b.toString(16).padStart(2, "0"), "")}`;
}
