import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * A real registry for tests: Debian's `docker-registry` (docker/distribution 2.8) on a free loopback
 * port, htpasswd auth, storage in a temp dir. Tests may start processes; the library never does.
 */
export interface TestRegistry {
  host: string;
  url: string;
  username: string;
  password: string;
  storageDir: string;
  close(): Promise<void>;
}

export function registryAvailable(): boolean {
  return !!Bun.which("docker-registry") && !!Bun.which("htpasswd");
}

/** Skip with one loud line when the registry is missing, but never under CI=true. */
export function registryOrSkip(suite: string): boolean {
  if (registryAvailable()) return true;
  if (process.env.CI === "true")
    throw new Error(`${suite}: docker-registry/htpasswd missing under CI; install docker-registry apache2-utils`);
  console.warn(
    `SKIPPING ${suite}: docker-registry or htpasswd not installed (apt-get install -y docker-registry apache2-utils)`,
  );
  return false;
}

export async function freePort(): Promise<number> {
  const server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response() });
  const port = server.port!;
  await server.stop(true);
  return port;
}

/** Time a suite's beforeAll may take to start a registry and push its fixture base. */
export const REGISTRY_SETUP_TIMEOUT_MS = 60_000;

export async function startRegistry(opts: { username?: string; password?: string } = {}): Promise<TestRegistry> {
  const username = opts.username ?? "flightdeck";
  const password = opts.password ?? `pw-${crypto.randomUUID()}`;
  const dir = mkdtempSync(join(tmpdir(), "fd-registry-"));
  const htpasswd = Bun.spawnSync(["htpasswd", "-Bbn", username, password]);
  if (htpasswd.exitCode !== 0) throw new Error(`htpasswd failed: ${htpasswd.stderr.toString()}`);
  writeFileSync(join(dir, "htpasswd"), htpasswd.stdout.toString());
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const config = [
      "version: 0.1",
      "log:",
      "  level: error",
      "  accesslog:",
      "    disabled: true",
      "storage:",
      "  filesystem:",
      `    rootdirectory: ${join(dir, "data")}`,
      "  delete:",
      "    enabled: true",
      "http:",
      `  addr: 127.0.0.1:${port}`,
      "auth:",
      "  htpasswd:",
      "    realm: flightdeck-test",
      `    path: ${join(dir, "htpasswd")}`,
      "",
    ].join("\n");
    writeFileSync(join(dir, "config.yml"), config);
    const proc = Bun.spawn(["docker-registry", "serve", join(dir, "config.yml")], { stdout: "ignore", stderr: "pipe" });
    const url = `http://127.0.0.1:${port}`;
    const ready = await waitReady(url, proc);
    if (!ready) {
      proc.kill();
      await proc.exited;
      if (attempt < 3) continue;
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`docker-registry did not start: ${await new Response(proc.stderr).text()}`);
    }
    return {
      host: `127.0.0.1:${port}`,
      url,
      username,
      password,
      storageDir: join(dir, "data"),
      async close() {
        proc.kill();
        await proc.exited;
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
}

async function waitReady(url: string, proc: Bun.Subprocess): Promise<boolean> {
  for (let i = 0; i < 100; i++) {
    if (proc.exitCode !== null) return false;
    try {
      const res = await fetch(`${url}/v2/`);
      await res.body?.cancel();
      if (res.status === 401 || res.status === 200) return true;
    } catch {
      // not listening yet
    }
    await Bun.sleep(50);
  }
  return false;
}
