import type { RegistryCredentials } from "./auth.ts";
import { DOCKER_HUB } from "./reference.ts";
import { RegistryClient, type RegistryClientOptions } from "./registry.ts";

/**
 * One RegistryClient per registry host, so a token obtained while resolving the base is reused when
 * pushing, and credentials are only ever sent to the host they belong to.
 */
export class RegistryPool {
  private readonly clients = new Map<string, RegistryClient>();
  constructor(
    private readonly credentials: Record<string, RegistryCredentials> = {},
    private readonly defaults: Omit<RegistryClientOptions, "registry" | "credentials"> = {},
  ) {}

  client(registry: string): RegistryClient {
    const host = registry === "docker.io" ? DOCKER_HUB : registry;
    let c = this.clients.get(host);
    if (!c) {
      c = new RegistryClient({ ...this.defaults, registry: host, credentials: this.credentials[host] });
      this.clients.set(host, c);
    }
    return c;
  }
}
