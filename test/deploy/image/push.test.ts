import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  buildImage,
  buildAndPushImage,
  ImageError,
  pushImage,
  RegistryClient,
  RegistryPool,
} from "../../../deploy/image/index.ts";
import { createFixtureProject, pushFixtureBase } from "./helpers/fixture.ts";
import { startRegistryProxy, type RegistryProxy } from "./helpers/proxy.ts";
import { REGISTRY_SETUP_TIMEOUT_MS, registryOrSkip, startRegistry, type TestRegistry } from "./helpers/registry.ts";
import { readTar } from "./helpers/tar-reader.ts";

const run = registryOrSkip("deploy/image registry tests");
const BASE_REPO = "oven/bun";
const BASE_TAG = `${Bun.version}-slim`;
const DIGEST = /^sha256:[a-f0-9]{64}$/;

describe.skipIf(!run)("daemonless image against a real registry (docker-registry + htpasswd)", () => {
  let registry: TestRegistry;
  let proxy: RegistryProxy;
  let project: string;
  let cacheDir: string;
  let fixture: Awaited<ReturnType<typeof pushFixtureBase>>;
  const creds = () => ({ username: registry.username, password: registry.password });
  const poolFor = (host: string, extra: Partial<{ retries: number; backoffMs: number }> = {}) =>
    new RegistryPool({ [host]: creds() }, { backoffMs: 5, ...extra });
  const base = (host: string) => `${host}/${BASE_REPO}:${BASE_TAG}`;

  // Starting docker-registry and pushing the fixture base takes seconds on a loaded machine; Bun's hooks keep
  // a 5 s default whatever bunfig.toml says.
  beforeAll(async () => {
    registry = await startRegistry();
    proxy = startRegistryProxy({
      upstream: registry.url,
      upstreamUsername: registry.username,
      upstreamPassword: registry.password,
    });
    fixture = await pushFixtureBase(
      new RegistryClient({ registry: registry.host, credentials: creds() }),
      BASE_REPO,
      BASE_TAG,
    );
    project = createFixtureProject();
    cacheDir = mkdtempSync(join(tmpdir(), "fd-image-cache-"));
  }, REGISTRY_SETUP_TIMEOUT_MS);

  afterAll(async () => {
    await proxy?.close();
    await registry?.close();
    if (project) rmSync(project, { recursive: true, force: true });
    if (cacheDir) rmSync(cacheDir, { recursive: true, force: true });
  });

  test("pushes an image whose manifest and config match the OCI image spec", async () => {
    const pool = poolFor(registry.host);
    const image = await buildImage({
      projectDir: project,
      base: base(registry.host),
      pool,
      cacheDir,
      source: "https://github.com/acme/flightdeck",
    });
    const pushed = await pushImage(image, {
      registry: registry.host,
      repository: "apps/spec",
      tag: "deployment-1",
      pool,
    });
    expect(pushed.reference).toBe(`${registry.host}/apps/spec@${image.manifestDigest}`);

    const client = new RegistryClient({ registry: registry.host, credentials: creds() });
    const byTag = await client.getManifest("apps/spec", "deployment-1");
    expect(byTag.digest).toBe(pushed.digest);
    expect(byTag.mediaType).toBe("application/vnd.oci.image.manifest.v1+json");
    const manifest = JSON.parse(new TextDecoder().decode(byTag.bytes));
    expect(manifest.schemaVersion).toBe(2);
    expect(manifest.config.mediaType).toBe("application/vnd.oci.image.config.v1+json");
    expect(manifest.layers).toHaveLength(3);
    for (const layer of manifest.layers) {
      expect(layer.mediaType).toBe("application/vnd.oci.image.layer.v1.tar+gzip");
      expect(layer.digest).toMatch(DIGEST);
      const blob = await client.getBlob("apps/spec", layer.digest);
      expect(blob.length).toBe(layer.size);
    }
    // The base layer is the linux/amd64 one, pinned by digest, never the arm64 sibling.
    expect(manifest.layers[0].digest).toBe(fixture.layer.digest);
    expect(manifest.annotations["org.opencontainers.image.base.digest"]).toBe(fixture.amd64Digest);
    expect(image.base.pinned).toBe(`${registry.host}/${BASE_REPO}@${fixture.amd64Digest}`);

    const configBytes = await client.getBlob("apps/spec", manifest.config.digest);
    expect(configBytes.length).toBe(manifest.config.size);
    const config = JSON.parse(new TextDecoder().decode(configBytes));
    expect(config.os).toBe("linux");
    expect(config.architecture).toBe("amd64");
    expect(config.rootfs.type).toBe("layers");
    expect(config.rootfs.diff_ids).toHaveLength(3);
    expect(config.history.filter((h: { empty_layer?: boolean }) => !h.empty_layer)).toHaveLength(3);
    expect(config.config.User).toBe("bun");
    expect(config.config.WorkingDir).toBe("/app");
    expect(config.config.Cmd).toEqual(["bun", "--smol", "src/server.ts"]);
    expect(config.config.Entrypoint).toEqual(["/usr/local/bin/docker-entrypoint.sh"]);
    expect(config.config.ExposedPorts).toEqual({ "3000/tcp": {} });
    expect(config.config.Env).toContain("NODE_ENV=production");
    expect(config.config.Env).toContain("PATH=/usr/local/bin:/usr/bin:/bin");
    expect(config.config.Labels["org.opencontainers.image.revision"]).toBe("0123456789abcdef0123456789abcdef01234567");
    expect(config.config.Labels["org.opencontainers.image.source"]).toBe("https://github.com/acme/flightdeck");
  });

  test("pulling back gives the dependency and application layers with the expected files", async () => {
    const pool = poolFor(registry.host);
    const image = await buildImage({ projectDir: project, base: base(registry.host), pool, cacheDir });
    await pushImage(image, { registry: registry.host, repository: "apps/pull", tag: "t", pool });
    const client = new RegistryClient({ registry: registry.host, credentials: creds() });
    const manifest = JSON.parse(new TextDecoder().decode((await client.getManifest("apps/pull", "t")).bytes));
    const config = JSON.parse(new TextDecoder().decode(await client.getBlob("apps/pull", manifest.config.digest)));
    const [, depsDesc, appDesc] = manifest.layers;
    const depsTar = Bun.gunzipSync(await client.getBlob("apps/pull", depsDesc.digest));
    const appTar = Bun.gunzipSync(await client.getBlob("apps/pull", appDesc.digest));
    // diff_ids are the digests of the uncompressed tars.
    expect(config.rootfs.diff_ids[1]).toBe(`sha256:${new Bun.CryptoHasher("sha256").update(depsTar).digest("hex")}`);
    expect(config.rootfs.diff_ids[2]).toBe(`sha256:${new Bun.CryptoHasher("sha256").update(appTar).digest("hex")}`);

    const app = readTar(appTar);
    const paths = app.map((e) => e.path);
    expect(paths).toContain("app/src/server.ts");
    expect(paths).toContain("app/src/routes/health.ts");
    expect(paths).toContain("app/package.json");
    expect(paths).toContain("app/bun.lock");
    expect(paths.filter((p) => /^app\/(test|node_modules|\.git|\.env)(\/|$)/.test(p))).toEqual([]);
    const media = app.find((e) => e.path === "app/media")!;
    expect(media.type).toBe("5");
    expect([media.uid, media.gid]).toEqual([1000, 1000]);
    expect(new TextDecoder().decode(app.find((e) => e.path === "app/src/server.ts")!.data)).toBe(
      'console.log("server");\n',
    );
    expect(paths).toEqual([...paths].sort());
    for (const e of app) {
      expect([e.uid, e.gid, e.mtime]).toEqual([1000, 1000, 0]);
      expect([0o644, 0o755]).toContain(e.mode);
    }

    const deps = readTar(depsTar);
    const depPaths = new Set(deps.map((e) => e.path));
    expect(depPaths.has("app/node_modules/elysia/package.json")).toBe(true);
    expect(depPaths.has("app/node_modules/postgres/package.json")).toBe(true);
    // devDependencies stay out of the production image (typescript may come in as elysia's peer).
    for (const devOnly of ["fast-check", "drizzle-kit", "openapi-typescript", "express", "@flydotio"]) {
      expect([...depPaths].some((p) => p.startsWith(`app/node_modules/${devOnly}/`))).toBe(false);
    }
    expect(deps.every((e) => e.uid === 1000 && e.gid === 1000 && e.mtime === 0)).toBe(true);
  });

  test("building the same tree twice gives the same digest, even with a cold dependency cache", async () => {
    const first = await buildImage({
      projectDir: project,
      base: base(registry.host),
      pool: poolFor(registry.host),
      cacheDir,
    });
    const coldCache = mkdtempSync(join(tmpdir(), "fd-image-cold-"));
    try {
      const second = await buildImage({
        projectDir: project,
        base: base(registry.host),
        pool: poolFor(registry.host),
        cacheDir: coldCache,
      });
      expect(second.manifestDigest).toBe(first.manifestDigest);
      expect(second.layers.map((l) => l.digest)).toEqual(first.layers.map((l) => l.digest));
    } finally {
      rmSync(coldCache, { recursive: true, force: true });
    }
  });

  test("a source-only change uploads only the source layer and config; no change uploads nothing", async () => {
    const host = proxy.host;
    const pool = () => poolFor(host);
    proxy.reset();
    const first = await pushImage(await buildImage({ projectDir: project, base: base(host), pool: pool(), cacheDir }), {
      registry: host,
      repository: "apps/incremental",
      tag: "one",
      pool: pool(),
    });
    // First push into a new repository: base layer mounted from oven/bun, our two layers + config uploaded.
    expect(first.blobs.find((b) => b.role === "base")!.action).toBe("mounted");
    expect(proxy.requests.some((r) => r.method === "POST" && r.query.includes("mount="))).toBe(true);
    expect(proxy.uploadedBlobBytes()).toBe(first.uploadedBytes);

    writeFileSync(join(project, "src/routes/health.ts"), "export const ok = 'changed';\n");
    proxy.reset();
    const changedImage = await buildImage({ projectDir: project, base: base(host), pool: pool(), cacheDir });
    const second = await pushImage(changedImage, {
      registry: host,
      repository: "apps/incremental",
      tag: "two",
      pool: pool(),
    });
    const appLayer = changedImage.layers[1]!;
    expect(second.digest).not.toBe(first.digest);
    expect(
      second.blobs
        .filter((b) => b.action === "uploaded")
        .map((b) => b.role)
        .sort(),
    ).toEqual(["config", "layer"]);
    expect(second.uploadedBytes).toBe(appLayer.size + changedImage.config.bytes.length);
    expect(proxy.uploadedBlobBytes()).toBe(second.uploadedBytes);
    expect(proxy.uploadedBlobBytes()).toBeLessThan(first.uploadedBytes);

    proxy.reset();
    const third = await pushImage(await buildImage({ projectDir: project, base: base(host), pool: pool(), cacheDir }), {
      registry: host,
      repository: "apps/incremental",
      tag: "three",
      pool: pool(),
    });
    expect(third.digest).toBe(second.digest);
    expect(third.uploadedBytes).toBe(0);
    expect(proxy.uploadedBlobBytes()).toBe(0);
    expect(proxy.requests.filter((r) => r.path.includes("/blobs/uploads/"))).toEqual([]);
    expect(third.blobs.every((b) => b.action === "exists")).toBe(true);
  });

  test("large blobs go up in PATCH chunks with Content-Range and come back intact", async () => {
    proxy.reset();
    const pool = poolFor(proxy.host);
    const image = await buildImage({ projectDir: project, base: base(proxy.host), pool, cacheDir });
    await pushImage(image, {
      registry: proxy.host,
      repository: "apps/chunked",
      tag: "t",
      pool,
      chunkSize: 1024 * 1024,
    });
    const patches = proxy.requests.filter((r) => r.method === "PATCH");
    const deps = image.layers[0]!;
    expect(patches.length).toBe(Math.ceil(deps.size / (1024 * 1024)));
    expect(patches[0]!.contentRange).toBe(`0-${1024 * 1024 - 1}`);
    const back = await new RegistryClient({ registry: registry.host, credentials: creds() }).getBlob(
      "apps/chunked",
      deps.digest,
    );
    expect(back.length).toBe(deps.size);
  });

  test("retries 5xx answers and still pushes", async () => {
    proxy.reset();
    proxy.faults.push({ method: "PUT", path: /\/blobs\/uploads\//, status: 503, times: 2 });
    proxy.faults.push({ method: "HEAD", status: 502, times: 1 });
    const pool = poolFor(proxy.host);
    const image = await buildImage({ projectDir: project, base: base(proxy.host), pool, cacheDir });
    const pushed = await pushImage(image, { registry: proxy.host, repository: "apps/flaky", tag: "t", pool });
    expect(pushed.digest).toBe(image.manifestDigest);
    expect(proxy.requests.filter((r) => r.status === 503)).toHaveLength(2);
    expect(
      await new RegistryClient({ registry: registry.host, credentials: creds() }).hasManifest("apps/flaky", "t"),
    ).toBe(true);
  });

  test("a registry that keeps failing gives a clear registry_unavailable error", async () => {
    proxy.reset();
    proxy.faults.push({ method: "PUT", path: /\/manifests\//, status: 503, times: Infinity });
    const pool = poolFor(proxy.host, { retries: 2 });
    const image = await buildImage({ projectDir: project, base: base(proxy.host), pool, cacheDir });
    const err = await pushImage(image, { registry: proxy.host, repository: "apps/down", tag: "t", pool }).catch(
      (e) => e,
    );
    expect(err).toBeInstanceOf(ImageError);
    expect(err.code).toBe("registry_unavailable");
    expect(err.status).toBe(503);
    expect(err.registry).toBe(proxy.host);
    expect(err.message).toContain("PUT /v2/apps/down/manifests/t");
    expect(err.message).toContain("gave up after 3 attempts");
    expect(proxy.requests.filter((r) => r.method === "PUT" && r.path.includes("/manifests/"))).toHaveLength(3);
  });

  test("wrong credentials fail with registry_unauthorized and never echo the secret", async () => {
    const secret = "wrong-secret-value-1234";
    const pool = new RegistryPool(
      { [registry.host]: { username: registry.username, password: secret } },
      { backoffMs: 5 },
    );
    const err = await buildImage({ projectDir: project, base: base(registry.host), pool, cacheDir }).catch((e) => e);
    expect(err).toBeInstanceOf(ImageError);
    expect(err.code).toBe("registry_unauthorized");
    expect(err.status).toBe(401);
    expect(err.message).toContain("check the registry token");
    expect(JSON.stringify(err.toJSON()) + err.message + String(err.stack)).not.toContain(secret);
    expect(JSON.stringify(err.toJSON())).not.toContain(btoa(`${registry.username}:${secret}`));

    const anonymous = await new RegistryClient({ registry: registry.host })
      .getManifest(BASE_REPO, BASE_TAG)
      .catch((e) => e);
    expect(anonymous.code).toBe("registry_unauthorized");
    expect(anonymous.message).toContain("no credentials were configured");
  });

  test("Bearer token flow: token fetched with Basic credentials and the push scope, then used", async () => {
    const bearerProxy = startRegistryProxy({
      upstream: registry.url,
      upstreamUsername: registry.username,
      upstreamPassword: registry.password,
      bearer: { username: "x", password: "fly-token-abc" },
    });
    try {
      const pool = new RegistryPool(
        { [bearerProxy.host]: { username: "x", password: "fly-token-abc" } },
        { backoffMs: 5 },
      );
      const image = await buildImage({ projectDir: project, base: base(bearerProxy.host), pool, cacheDir });
      const pushed = await pushImage(image, { registry: bearerProxy.host, repository: "apps/bearer", tag: "t", pool });
      expect(pushed.digest).toBe(image.manifestDigest);
      expect(bearerProxy.tokenRequests.length).toBeGreaterThan(0);
      expect(bearerProxy.tokenRequests.every((t) => t.authorized)).toBe(true);
      expect(bearerProxy.tokenRequests.at(-1)!.scopes).toContain("repository:apps/bearer:pull,push");

      const bad = new RegistryPool({ [bearerProxy.host]: { username: "x", password: "nope" } }, { backoffMs: 5 });
      const err = await buildImage({ projectDir: project, base: base(bearerProxy.host), pool: bad, cacheDir }).catch(
        (e) => e,
      );
      expect(err).toBeInstanceOf(ImageError);
      expect(err.code).toBe("registry_unauthorized");
      expect(err.message).toContain("refused the configured credentials");
      expect(err.message).not.toContain("nope");
    } finally {
      await bearerProxy.close();
    }
  });

  test("a base without linux/amd64 is refused with base_platform_missing", async () => {
    const client = new RegistryClient({ registry: registry.host, credentials: creds() });
    const index = new TextEncoder().encode(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: "application/vnd.oci.image.index.v1+json",
        manifests: [
          {
            mediaType: "application/vnd.oci.image.manifest.v1+json",
            digest: fixture.arm64Digest,
            size: 1,
            platform: { architecture: "arm64", os: "linux" },
          },
        ],
      }),
    );
    // distribution checks that index children exist, and size is advisory for it.
    const real = await client.getManifest(BASE_REPO, fixture.arm64Digest);
    const fixed = new TextDecoder().decode(index).replace('"size":1', `"size":${real.bytes.length}`);
    await client.putManifest(
      BASE_REPO,
      "arm-only",
      new TextEncoder().encode(fixed),
      "application/vnd.oci.image.index.v1+json",
    );
    const err = await buildImage({
      projectDir: project,
      base: `${registry.host}/${BASE_REPO}:arm-only`,
      pool: poolFor(registry.host),
      cacheDir,
    }).catch((e) => e);
    expect(err).toBeInstanceOf(ImageError);
    expect(err.code).toBe("base_platform_missing");
  });

  test("buildAndPushImage tags deployment-<id> with Basic x:<token> and returns the digest reference", async () => {
    // The registry's htpasswd user plays Fly's "x"; the token is the password, as FLY_API_TOKEN is.
    const xRegistry = await startRegistry({ username: "x" });
    try {
      await pushFixtureBase(
        new RegistryClient({ registry: xRegistry.host, credentials: { username: "x", password: xRegistry.password } }),
        BASE_REPO,
        BASE_TAG,
      );
      const result = await buildAndPushImage({
        app: "my-app",
        deploymentId: "01HXYZ",
        token: xRegistry.password,
        env: { FLY_REGISTRY: xRegistry.host },
        projectDir: project,
        base: base(xRegistry.host),
        cacheDir,
      });
      expect(result.tagged).toBe(`${xRegistry.host}/my-app:deployment-01HXYZ`);
      expect(result.reference).toBe(`${xRegistry.host}/my-app@${result.image.manifestDigest}`);
      const tagged = await new RegistryClient({
        registry: xRegistry.host,
        credentials: { username: "x", password: xRegistry.password },
      }).getManifest("my-app", "deployment-01HXYZ");
      expect(tagged.digest).toBe(result.digest);
    } finally {
      await xRegistry.close();
    }
  });
});

test("the daemonless image starts the server exactly as the generated Dockerfile does", async () => {
  const pkg = await Bun.file(new URL("../../../package.json", import.meta.url)).json();
  const { DEFAULT_CMD } = await import("../../../deploy/image/build.ts");
  expect(DEFAULT_CMD).toEqual(pkg.dockerfile.cmd);
  const dockerfile = await Bun.file(new URL("../../../Dockerfile", import.meta.url)).text();
  expect(dockerfile).toContain(
    `CMD ${JSON.stringify(pkg.dockerfile.cmd).replaceAll(",", ", ").replace("[", "[ ").replace("]", " ]")}`,
  );
});
