// How the app is reached from the internet, from fly.toml alone (flyctl `Config.URL` and `DetermineIPType`,
// internal/appconfig/config.go): the URL printed after a deploy and whether a shared IPv4 can carry its services.

import type { DeployConfig } from "./flytoml-types.ts";

/**
 * https://<app>.fly.dev/ when [http_service] is set or a service has http+tls on 443; http on 80 next; then the
 * lowest other https port, then the lowest other http port; null when nothing speaks HTTP.
 */
export function appUrl(cfg: Pick<DeployConfig, "app" | "httpService" | "services">): string | null {
  const host = `${cfg.app}.fly.dev`;
  if (cfg.httpService && cfg.httpService.internalPort > 0) return `https://${host}/`;
  const http: number[] = [];
  const https: number[] = [];
  for (const s of cfg.services) {
    for (const p of s.ports) {
      if (p.port === undefined || !p.handlers?.includes("http")) continue;
      (p.handlers.includes("tls") ? https : http).push(p.port);
    }
  }
  const lowest = (ports: number[]) => [...ports].sort((a, b) => a - b)[0];
  if (https.includes(443)) return `https://${host}/`;
  if (http.includes(80)) return `http://${host}/`;
  if (https.length > 0) return `https://${host}:${lowest(https)}/`;
  if (http.length > 0) return `http://${host}:${lowest(http)}/`;
  return null;
}

/** The ports a [[services.ports]] entry covers; null for a range of more than two (fly-go `HasNonHttpPorts`). */
function portsOf(p: { port?: number; startPort?: number; endPort?: number }): number[] | null {
  const out = p.port !== undefined ? [p.port] : [];
  if (p.startPort === undefined && p.endPort === undefined) return out;
  const start = p.startPort ?? 0;
  const end = p.endPort ?? 65535;
  if (end - start + 1 > 2) return null;
  for (let n = start; n <= end; n++) out.push(n);
  return out;
}

const same = (a: readonly string[] | undefined, b: readonly string[]) =>
  a !== undefined && a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * "shared" when every service is HTTP on 80 and HTTP+TLS on 443, which Fly's shared IPv4 routes by hostname;
 * "dedicated" for UDP, other ports or other handlers, which need an IPv4 of their own (flyctl `DetermineIPType`).
 */
export function ipv4Needed(cfg: Pick<DeployConfig, "services">): "shared" | "dedicated" {
  for (const s of cfg.services) {
    if (s.protocol === "udp") return "dedicated";
    if (s.protocol !== "tcp") continue;
    for (const p of s.ports) {
      const ports = portsOf(p);
      if (ports === null || ports.some((n) => n !== 80 && n !== 443)) return "dedicated";
      if (ports.includes(80) && !same(p.handlers, ["http"])) return "dedicated";
      if (ports.includes(443) && !same(p.handlers, ["http", "tls"]) && !same(p.handlers, ["tls", "http"]))
        return "dedicated";
    }
  }
  return "shared";
}
