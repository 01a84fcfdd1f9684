/**
 * `bun run bench:image`: daemonless build + push (deploy/image) against `buildah bud` + `buildah push`
 * of the generated Dockerfile, both to the same local docker-registry (through a counting proxy, so
 * blob bytes are measured on the wire). Three steps each: first push, a source-only change, no change.
 *
 * Floors (exit 1 if missed): no change uploads 0 blob bytes; a source-only change uploads < 1 MB;
 * the daemonless incremental build + push is >= 3x faster than buildah's.
 * Needs: docker-registry, apache2-utils, buildah, debootstrap (the base is built as in the e2e check).
 */
import { appendFileSync, cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildImage, pushImage, RegistryPool } from "../deploy/image/index.ts";
import { startRegistryProxy } from "../test/deploy/image/helpers/proxy.ts";
import { startRegistry } from "../test/deploy/image/helpers/registry.ts";
import { BASE_TAG, ensureBaseImage } from "../test/e2e/base-image.ts";
import { buildah } from "../test/e2e/sh.ts";

const ROOT = join(import.meta.dir, "..");
const log = (line: string) => process.stderr.write(`[bench:image] ${line}\n`);

interface Step {
  tool: "daemonless" | "buildah";
  step: "first" | "source change" | "no change";
  ms: number;
  uploadedBytes: number;
}

export async function benchImage(): Promise<{ steps: Step[]; ratio: number; ok: boolean; problems: string[] }> {
  await ensureBaseImage(join(ROOT, ".cache", "e2e"), log);
  const work = mkdtempSync(join(tmpdir(), "fd-bench-image-"));
  const skip = /^(node_modules|\.git|\.cache|data)$/;
  cpSync(ROOT, work, { recursive: true, filter: (src) => !skip.test(src.slice(ROOT.length + 1).split("/")[0] ?? "") });
  const registry = await startRegistry();
  const proxy = startRegistryProxy({
    upstream: registry.url,
    upstreamUsername: registry.username,
    upstreamPassword: registry.password,
  });
  const steps: Step[] = [];
  const touch = (n: number) =>
    appendFileSync(join(work, "src/routes/health.ts"), `\n// bench edit ${n} ${Date.now()}\n`);
  try {
    const creds = `${registry.username}:${registry.password}`;
    const base = `${proxy.host}/oven/bun:${Bun.version}-slim`;
    await buildah([
      "push",
      "--tls-verify=false",
      "--creds",
      creds,
      BASE_TAG,
      `docker://${registry.host}/oven/bun:${Bun.version}-slim`,
    ]);

    const cacheDir = join(work, ".cache", "image");
    const daemonless = async (step: Step["step"]) => {
      proxy.reset();
      const t = performance.now();
      const pool = new RegistryPool({ [proxy.host]: { username: registry.username, password: registry.password } });
      const image = await buildImage({ projectDir: work, base, pool, cacheDir });
      await pushImage(image, { registry: proxy.host, repository: "bench/daemonless", tag: "latest", pool, cacheDir });
      steps.push({ tool: "daemonless", step, ms: performance.now() - t, uploadedBytes: proxy.uploadedBlobBytes() });
    };
    const viaBuildah = async (step: Step["step"]) => {
      proxy.reset();
      const t = performance.now();
      await buildah(
        [
          "bud",
          "--pull=never",
          "--layers",
          "--isolation",
          "chroot",
          "-f",
          "Dockerfile",
          "-t",
          "localhost/flightdeck:bench",
          ".",
        ],
        { cwd: work },
      );
      await buildah([
        "push",
        "--tls-verify=false",
        "--creds",
        creds,
        "localhost/flightdeck:bench",
        `docker://${proxy.host}/bench/buildah:latest`,
      ]);
      steps.push({ tool: "buildah", step, ms: performance.now() - t, uploadedBytes: proxy.uploadedBlobBytes() });
    };

    for (const run of [daemonless, viaBuildah]) {
      await run("first");
      touch(steps.length);
      await run("source change");
      await run("no change");
    }
  } finally {
    await proxy.close();
    await registry.close();
    rmSync(work, { recursive: true, force: true });
  }

  const find = (tool: Step["tool"], step: Step["step"]) => steps.find((s) => s.tool === tool && s.step === step)!;
  const ratio = find("buildah", "source change").ms / find("daemonless", "source change").ms;
  const problems: string[] = [];
  if (find("daemonless", "no change").uploadedBytes !== 0)
    problems.push("daemonless no-change push uploaded blob bytes");
  if (find("daemonless", "source change").uploadedBytes >= 1024 * 1024)
    problems.push("daemonless source-only change uploaded >= 1 MB");
  if (ratio < 3)
    problems.push(`daemonless incremental build+push only ${ratio.toFixed(1)}x faster than buildah (floor 3x)`);
  return { steps, ratio, ok: problems.length === 0, problems };
}

if (import.meta.main) {
  const result = await benchImage();
  console.log("tool        step            build+push    blob bytes uploaded");
  for (const s of result.steps) {
    console.log(
      `${s.tool.padEnd(11)} ${s.step.padEnd(15)} ${`${Math.round(s.ms)} ms`.padStart(10)}    ${s.uploadedBytes}`,
    );
  }
  console.log(`incremental speed-up (buildah / daemonless, source change): ${result.ratio.toFixed(1)}x`);
  console.log(JSON.stringify({ bench: "image", ...result }));
  for (const p of result.problems) console.error(`FLOOR MISSED: ${p}`);
  process.exit(result.ok ? 0 : 1);
}
