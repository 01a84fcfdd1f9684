/**
 * `bun run e2e:container`: both images — the Dockerfile built by buildah, and the daemonless image
 * from deploy/image pushed to a real local registry and pulled back by buildah — must boot as the
 * non-root user with a fresh SQLite config, answer /health with 200, and store an uploaded file in
 * /app/media. No Docker daemon: buildah (vfs storage, chroot isolation) as root.
 *
 * Requires: buildah, debootstrap, docker-registry, apache2-utils (htpasswd); network to the Debian
 * mirror and the npm registry on the first run (the base rootfs is cached in .cache/e2e/).
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { buildImage, pushImage, RegistryPool } from "../../deploy/image/index.ts";
import { freePort, startRegistry } from "../deploy/image/helpers/registry.ts";
import { BASE_TAG, ensureBaseImage } from "./base-image.ts";
import { BUILDAH_ENV, buildah } from "./sh.ts";

const ROOT = join(import.meta.dir, "../..");
const CACHE = join(ROOT, ".cache", "e2e");
const log = (line: string) => process.stderr.write(`[e2e] ${line}\n`);

interface CheckResult {
  image: string;
  health: number;
  uid: number;
  upload: string;
}

async function main(): Promise<number> {
  for (const tool of ["buildah", "debootstrap", "docker-registry", "htpasswd"]) {
    if (!Bun.which(tool)) {
      log(`missing ${tool}: apt-get install -y buildah debootstrap docker-registry apache2-utils`);
      return 2;
    }
  }
  let t = performance.now();
  await ensureBaseImage(CACHE, log);
  log(`base ${BASE_TAG} ready in ${ms(t)}`);

  t = performance.now();
  const dockerfileImage = "localhost/flightdeck:e2e-dockerfile";
  await buildah(
    ["bud", "--pull=never", "--layers", "--isolation", "chroot", "-f", "Dockerfile", "-t", dockerfileImage, "."],
    { cwd: ROOT },
  );
  log(`buildah bud of the Dockerfile in ${ms(t)}`);

  const registry = await startRegistry();
  const results: CheckResult[] = [];
  let failed = false;
  try {
    const creds = `${registry.username}:${registry.password}`;
    const base = `${registry.host}/oven/bun:${Bun.version}-slim`;
    await buildah(["push", "--tls-verify=false", "--creds", creds, BASE_TAG, `docker://${base}`]);
    t = performance.now();
    const pool = new RegistryPool({ [registry.host]: { username: registry.username, password: registry.password } });
    const image = await buildImage({ projectDir: ROOT, base, pool });
    const pushed = await pushImage(image, {
      registry: registry.host,
      repository: "e2e/flightdeck",
      tag: "daemonless",
      pool,
    });
    log(`daemonless build + push ${pushed.reference} in ${ms(t)}`);
    await buildah(["pull", "--tls-verify=false", "--creds", creds, `docker://${pushed.tagged}`]);

    for (const name of [dockerfileImage, pushed.tagged]) {
      try {
        results.push(await checkImage(name));
      } catch (err) {
        failed = true;
        log(`FAIL ${name}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  } finally {
    await registry.close();
  }
  for (const r of results) log(`OK ${r.image}: /health ${r.health}, server uid ${r.uid}, upload -> ${r.upload}`);
  return failed || results.length !== 2 ? 1 : 0;
}

async function checkImage(image: string): Promise<CheckResult> {
  const ctr = (await buildah(["from", "--pull=never", image], { quiet: true })).stdout.trim();
  // buildah 1.28's --format has no `json` function: read the whole inspect document instead.
  const inspected = JSON.parse((await buildah(["inspect", ctr], { quiet: true })).stdout) as {
    OCIv1?: { config?: { User?: string; Cmd?: string[]; Entrypoint?: string[]; WorkingDir?: string } };
  };
  const config = inspected.OCIv1?.config ?? {};
  if (config.User !== "bun") throw new Error(`image USER is ${JSON.stringify(config.User)}, expected "bun"`);
  const port = await freePort();
  const env = {
    APP_ENV: "preview",
    DATABASE_URL: "sqlite:/tmp/flightdeck-e2e.db",
    MEDIA_DIR: "/app/media",
    SECRET_KEY: crypto.randomUUID() + crypto.randomUUID(),
    HOST: "127.0.0.1",
    PORT: String(port),
    ALLOWED_ORIGINS: "https://example.test",
  };
  const command = [...(config.Entrypoint ?? []), ...(config.Cmd ?? [])];
  // chroot isolation shares the host network, so the server is reachable on 127.0.0.1:<port>.
  const proc = Bun.spawn(
    [
      "buildah",
      "--storage-driver",
      "vfs",
      "run",
      "--isolation",
      "chroot",
      ...Object.entries(env).flatMap(([k, v]) => ["--env", `${k}=${v}`]),
      ctr,
      "--",
      ...command,
    ],
    { env: { ...process.env, ...BUILDAH_ENV }, stdout: "pipe", stderr: "pipe" },
  );
  const output: string[] = [];
  void collect(proc.stdout, output);
  void collect(proc.stderr, output);
  const url = `http://127.0.0.1:${port}`;
  try {
    const health = await waitHealthy(url, proc, output);
    const server = findServerProcess(proc.pid);
    if (!server) throw new Error("could not find the server process under buildah run");
    if (server.uid === 0) throw new Error("the server runs as root");
    const upload = await uploadFile(url);
    const mount = (await buildah(["mount", ctr], { quiet: true })).stdout.trim();
    const landed = findFile(join(mount, "app/media"), upload.content);
    if (!landed) throw new Error(`uploaded file not found under /app/media (PUT answered ${upload.status})`);
    if (statSync(landed).uid !== server.uid)
      throw new Error(`uploaded file is owned by uid ${statSync(landed).uid}, not ${server.uid}`);
    return { image, health, uid: server.uid, upload: landed.slice(mount.length) };
  } finally {
    const server = findServerProcess(proc.pid);
    if (server) process.kill(server.pid, "SIGTERM");
    await Promise.race([proc.exited, Bun.sleep(10_000)]);
    if (proc.exitCode === null) proc.kill("SIGKILL");
    await buildah(["umount", ctr], { quiet: true }).catch(() => undefined);
    await buildah(["rm", ctr], { quiet: true }).catch(() => undefined);
  }
}

async function waitHealthy(url: string, proc: Bun.Subprocess, output: string[]): Promise<number> {
  const deadline = Date.now() + 60_000;
  let last = "no answer";
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`server exited ${proc.exitCode}:\n${output.join("").slice(-2000)}`);
    try {
      const res = await fetch(`${url}/health`);
      last = `${res.status} ${await res.text()}`;
      if (res.status === 200) return 200;
    } catch {
      // not listening yet
    }
    await Bun.sleep(200);
  }
  throw new Error(`/health never answered 200 (last: ${last}):\n${output.join("").slice(-2000)}`);
}

/** Register, log in, create a project, PUT a file: the public API contract of the service. */
async function uploadFile(url: string): Promise<{ status: number; content: string }> {
  const email = `e2e-${crypto.randomUUID().slice(0, 8)}@example.test`;
  const password = `pw-${crypto.randomUUID()}`;
  const json = { "content-type": "application/json" };
  const reg = await fetch(`${url}/v1/auth/register`, {
    method: "POST",
    headers: json,
    body: JSON.stringify({ email, password }),
  });
  if (reg.status >= 300) throw new Error(`register answered ${reg.status}: ${await reg.text()}`);
  const login = await fetch(`${url}/v1/auth/login`, {
    method: "POST",
    headers: json,
    body: JSON.stringify({ email, password }),
  });
  const { access_token } = (await login.json()) as { access_token?: string };
  if (!access_token) throw new Error(`login answered ${login.status} without access_token`);
  const auth = { authorization: `Bearer ${access_token}` };
  const created = await fetch(`${url}/v1/projects`, {
    method: "POST",
    headers: { ...json, ...auth },
    body: JSON.stringify({ name: "e2e" }),
  });
  const project = (await created.json()) as { id?: string };
  if (!project.id) throw new Error(`create project answered ${created.status} without id`);
  const content = `flightdeck e2e ${crypto.randomUUID()}\n`;
  const put = await fetch(`${url}/v1/projects/${project.id}/files/docs/hello.txt`, {
    method: "PUT",
    headers: { ...auth, "content-type": "text/plain" },
    body: content,
  });
  if (put.status >= 300)
    throw new Error(
      `PUT /v1/projects/:id/files/docs/hello.txt answered ${put.status}: ${(await put.text()).slice(0, 300)}`,
    );
  return { status: put.status, content };
}

/** The server is a descendant of `buildah run`; chroot isolation keeps it in the host PID namespace. */
function findServerProcess(rootPid: number): { pid: number; uid: number } | undefined {
  const children = new Map<number, number[]>();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(name)]);
    } catch {
      // the process went away
    }
  }
  const queue = [...(children.get(rootPid) ?? [])];
  while (queue.length > 0) {
    const pid = queue.shift()!;
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
      if (cmdline.some((a) => a.endsWith("src/server.ts"))) {
        const uid = Number(/^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1]);
        return { pid, uid };
      }
    } catch {
      // the process went away
    }
    queue.push(...(children.get(pid) ?? []));
  }
  return undefined;
}

function findFile(dir: string, content: string): string | undefined {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return undefined;
  }
  for (const name of entries) {
    const path = join(dir, name);
    const st = statSync(path);
    if (st.isDirectory()) {
      const found = findFile(path, content);
      if (found) return found;
    } else if (st.isFile() && st.size === content.length && readFileSync(path, "utf8") === content) {
      return path;
    }
  }
  return undefined;
}

async function collect(stream: ReadableStream<Uint8Array>, into: string[]) {
  const decoder = new TextDecoder();
  for await (const chunk of stream) into.push(decoder.decode(chunk));
}

const ms = (start: number) => `${Math.round(performance.now() - start)} ms`;

if (import.meta.main) {
  main().then(
    (code) => process.exit(code),
    (err) => {
      log(`FAIL: ${err instanceof Error ? err.message : String(err)}`);
      process.exit(1);
    },
  );
}
