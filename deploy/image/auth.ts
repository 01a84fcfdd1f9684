/**
 * Registry authentication as the distribution spec describes it: a 401 carries a
 * `WWW-Authenticate` challenge, either `Basic realm=...` or `Bearer realm=...,service=...,scope=...`
 * (https://distribution.github.io/distribution/spec/auth/token/). For Bearer we fetch a token from
 * the realm, with Basic credentials when we have them (anonymous otherwise, as Docker Hub allows for pulls).
 */
export interface RegistryCredentials {
  username: string;
  password: string;
}

export type Challenge =
  | { scheme: "basic"; realm?: string }
  | { scheme: "bearer"; realm: string; service?: string; scope?: string };

export function parseChallenge(header: string | null): Challenge | null {
  if (!header) return null;
  const m = /^\s*(\w+)\s*(.*)$/.exec(header);
  if (!m) return null;
  const scheme = m[1]!.toLowerCase();
  const params: Record<string, string> = {};
  for (const p of m[2]!.matchAll(/(\w+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g)) {
    params[p[1]!.toLowerCase()] = (p[2] ?? p[3] ?? "").replace(/\\(.)/g, "$1");
  }
  if (scheme === "basic") return { scheme: "basic", realm: params.realm };
  if (scheme === "bearer" && params.realm) {
    return { scheme: "bearer", realm: params.realm, service: params.service, scope: params.scope };
  }
  return null;
}

export function basicHeader(creds: RegistryCredentials): string {
  return `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString("base64")}`;
}
