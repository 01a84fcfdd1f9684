// The client speaks the published API: every route it uses exists in the OpenAPI document with that method,
// and the paths and bodies it actually sends (recorded by the fake, which validates bodies against the same
// document) match the spec's templates.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { createFlyClient, ROUTES } from "../../../lib/fly/index.ts";
import { specValidator } from "../../fakes/fly/validate.ts";
import { startFakeFly, type FakeFly } from "../../fakes/fly-machines.ts";

const spec = JSON.parse(
  readFileSync(new URL("../../../lib/fly/spec/fly-machines-openapi.json", import.meta.url), "utf8"),
) as {
  paths: Record<string, Record<string, { requestBody?: { content?: Record<string, { schema?: { $ref?: string } }> } }>>;
};

function templateFor(method: string, path: string): string | undefined {
  return Object.keys(spec.paths).find((template) => {
    const pattern = new RegExp(`^${template.replace(/\{[^}]+\}/g, "[^/]+")}$`);
    return pattern.test(path) && spec.paths[template]?.[method.toLowerCase()] !== undefined;
  });
}

describe("routes", () => {
  test("every client route is a spec operation with that method", () => {
    for (const [name, [method, path]] of Object.entries(ROUTES)) {
      const operation = spec.paths[path]?.[method.toLowerCase()];
      expect({ name, found: operation !== undefined }).toEqual({ name, found: true });
    }
  });
});

describe("what the client sends", () => {
  let fly: FakeFly;
  beforeAll(() => {
    fly = startFakeFly();
  });
  afterAll(() => fly.close());

  test("a full tour of the client hits only spec paths, with bodies valid against the spec", async () => {
    const client = createFlyClient({ baseUrl: fly.url, token: fly.token });
    await client.createApp({ name: "tour", org_slug: "personal" });
    await client.listApps("personal");
    await client.getApp("tour");
    const { version } = await client.setSecrets("tour", { SECRET_KEY: "k".repeat(40), DATABASE_URL: "postgres://x" });
    await client.setSecret("tour", "EXTRA", "1");
    await client.getSecret("tour", "EXTRA", { showSecrets: true });
    await client.unsetSecret("tour", "EXTRA");
    await client.unsetSecrets("tour", ["DATABASE_URL"]);
    await client.listSecrets("tour", { minVersion: version });
    await client.createDeployToken("tour", { expiry: "720h0m0s" });
    const pg = await client.createPostgresCluster({
      org_slug: "personal",
      name: "tour-db",
      region: "ewr",
      plan: "basic",
      disk_size_gb: 10,
      pool_mode: "session",
    });
    while ((await client.getPostgresCluster(pg.id!)).status !== "ready") await Bun.sleep(10);
    await client.listPostgresClusters("personal", { includeDeleted: true });
    await client.createPostgresDatabase(pg.id!, "tour");
    await client.listPostgresDatabases(pg.id!);
    await client.createPostgresUser(pg.id!, "tour", "schema_admin");
    await client.listPostgresUsers(pg.id!);
    await client.getPostgresUserCredentials(pg.id!, "tour");
    await client.createPostgresAttachment(pg.id!, "tour");
    await client.deletePostgresAttachment(pg.id!, "tour");
    await client.createPostgresBackup(pg.id!, "full");
    let backups = await client.listPostgresBackups(pg.id!);
    while (backups[0]?.status !== "completed") {
      await Bun.sleep(10);
      backups = await client.listPostgresBackups(pg.id!);
    }
    const restored = await client.restorePostgresCluster(pg.id!, {
      backup_id: backups[0]!.id!,
      name: "tour-db-restored",
    });
    await client.deletePostgresCluster(restored.id!);
    await client.deletePostgresCluster(pg.id!);
    const volume = await client.createVolume("tour", { name: "media", region: "ewr", size_gb: 1, encrypted: true });
    await client.listVolumes("tour");
    await client.getVolume("tour", volume.id!);
    const machine = await client.createMachine("tour", {
      name: "tour-1",
      region: "ewr",
      min_secrets_version: version,
      lease_ttl: 30,
      config: {
        image: "registry.fly.io/tour:deployment-1",
        env: { PORT: "3000" },
        guest: { cpu_kind: "shared", cpus: 1, memory_mb: 256 },
        services: [
          {
            protocol: "tcp",
            internal_port: 3000,
            autostop: "stop",
            autostart: true,
            min_machines_running: 1,
            ports: [
              { port: 80, handlers: ["http"], force_https: true },
              { port: 443, handlers: ["tls", "http"] },
            ],
            checks: [
              {
                type: "http",
                port: 3000,
                path: "/health",
                method: "GET",
                interval: "15s",
                timeout: "2s",
                grace_period: "5s",
              },
            ],
          },
        ],
        mounts: [{ volume: volume.id!, path: "/app/media" }],
        metadata: { fly_platform_version: "v2", fly_process_group: "app" },
        restart: { policy: "on-failure", max_retries: 10 },
        stop_config: { signal: "SIGTERM", timeout: "10s" },
      },
    });
    const nonce = machine.nonce!;
    await client.waitMachine("tour", machine.id!, { state: "started", timeoutSeconds: 10 });
    await client.refreshLease("tour", machine.id!, nonce, { ttlSeconds: 30 });
    await client.getLease("tour", machine.id!);
    await client.setMetadata("tour", machine.id!, "flightdeck_config_digest", "abc", { leaseNonce: nonce });
    await client.updateMetadata("tour", machine.id!, { flightdeck_release: "2" }, { leaseNonce: nonce });
    await client.deleteMetadata("tour", machine.id!, "flightdeck_release", { leaseNonce: nonce });
    await client.getMetadata("tour", machine.id!);
    const current = await client.getMachine("tour", machine.id!);
    await client.updateMachine(
      "tour",
      machine.id!,
      {
        config: { ...current.config!, env: { PORT: "3001" } },
        current_version: current.version,
        min_secrets_version: version,
      },
      { leaseNonce: nonce },
    );
    await client.waitForMachineState("tour", machine.id!, { state: "started", timeoutMs: 10_000 });
    await client.listVersions("tour", machine.id!);
    await client.listEvents("tour", machine.id!, { limit: 10 });
    await client.listMachines("tour", { metadata: { fly_process_group: "app" }, includeDeleted: true });
    await client.cordonMachine("tour", machine.id!, { leaseNonce: nonce });
    await client.uncordonMachine("tour", machine.id!, { leaseNonce: nonce });
    await client.stopMachine("tour", machine.id!, { leaseNonce: nonce, killSignal: "SIGINT", killTimeout: "5s" });
    await client.waitMachine("tour", machine.id!, { state: "stopped", timeoutSeconds: 10 });
    await client.startMachine("tour", machine.id!, { leaseNonce: nonce });
    await client.waitMachine("tour", machine.id!, { state: "started", timeoutSeconds: 10 });
    await client.suspendMachine("tour", machine.id!, { leaseNonce: nonce });
    await client.waitMachine("tour", machine.id!, { state: "suspended", timeoutSeconds: 10 });
    await client.startMachine("tour", machine.id!, { leaseNonce: nonce });
    await client.waitMachine("tour", machine.id!, { state: "started", timeoutSeconds: 10 });
    await client.execMachine("tour", machine.id!, { command: ["echo", "hi"], timeoutSeconds: 5, stdin: "" });
    await client.releaseLease("tour", machine.id!, nonce);
    await client.destroyMachine("tour", machine.id!, { force: true });
    await client.waitMachine("tour", machine.id!, { state: "destroyed", timeoutSeconds: 10 });
    await client.deleteVolume("tour", volume.id!);
    const ip = await client.assignIp("tour", { type: "v6" });
    await client.assignIp("tour", { type: "shared_v4" });
    await client.listIpAssignments("tour");
    await client.createAcmeCertificate("tour", "www.example.com");
    await client.getCertificate("tour", "www.example.com");
    await client.checkCertificate("tour", "www.example.com");
    await client.deleteCertificate("tour", "www.example.com");
    await client.deleteIp("tour", ip.ip!);
    await client.deleteApp("tour");

    expect(fly.calls.filter((c) => c.status >= 400)).toEqual([]);
    const used = new Set<string>();
    const validate = specValidator(true);
    for (const call of fly.calls) {
      const template = templateFor(call.method, call.path);
      expect({ call: `${call.method} ${call.path}`, template: template !== undefined }).toEqual({
        call: `${call.method} ${call.path}`,
        template: true,
      });
      used.add(`${call.method} ${template}`);
      const schemaRef =
        spec.paths[template!]?.[call.method.toLowerCase()]?.requestBody?.content?.["application/json"]?.schema?.$ref;
      if (call.body !== undefined && schemaRef) {
        expect(validate(schemaRef.split("/").pop()!, call.body)).toBeUndefined();
      }
    }
    // The tour covers every route the client knows.
    const expected = new Set(Object.values(ROUTES).map(([method, path]) => `${method} ${path}`));
    expect([...expected].filter((route) => !used.has(route))).toEqual([]);
  });
});
