// /v1/apps/{app}/certificates/acme, .../{hostname}, .../{hostname}/check: ACME certificates as the spec
// describes them (CertificateDetail, CertificateCheckResponse; fly-machines-api.md §8). A new certificate
// waits for DNS; the first `check` finds DNS in place and issues it (ECDSA + RSA from Let's Encrypt), unless
// `stayPending` says DNS is still wrong, in which case `check` reports a validation error every time.
// `dnsRequirements: "cname_only"` leaves A/AAAA out of `dns_requirements` (a client must then use the app's
// own IPs), the variant the spec allows since every field is optional.

import type { CertificateDetail, CreateAcmeCertificateRequest, DnsRecords } from "../../../lib/fly/types.ts";
import { empty, HttpError, json, validBody, type FakeContext } from "./context.ts";
import type { Route } from "./router.ts";
import { nowIso, type FakeApp, type FakeCertificate } from "./state.ts";

export interface CertificateBehaviour {
  /** Hostnames (or all, with `true`) whose DNS never validates: `check` leaves them pending. */
  stayPending: boolean | ((hostname: string) => boolean);
  dnsRequirements: "full" | "cname_only";
}

export function createCertificateBehaviour(): CertificateBehaviour {
  return { stayPending: false, dnsRequirements: "full" };
}

const HOSTNAME = /^(\*\.)?([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;

function publicIps(app: FakeApp): { v4: string[]; v6: string[] } {
  const usable = app.ips.filter((ip) => ip.ip && !ip.egress && !ip.ip.startsWith("fdaa:"));
  return {
    v4: usable.filter((ip) => ip.ip!.includes(".")).map((ip) => ip.ip!),
    v6: usable.filter((ip) => ip.ip!.includes(":")).map((ip) => ip.ip!),
  };
}

function detail(app: FakeApp, cert: FakeCertificate, behaviour: CertificateBehaviour): CertificateDetail {
  const { v4, v6 } = publicIps(app);
  const active = cert.state === "active";
  const expires = new Date(Date.parse(cert.created_at) + 90 * 86_400_000).toISOString();
  const bare = cert.hostname.replace(/^\*\./, "");
  return {
    hostname: cert.hostname,
    status: active ? "Ready" : "Awaiting configuration",
    configured: active,
    acme_requested: true,
    dns_provider: "example-dns",
    dns_requirements: {
      ...(behaviour.dnsRequirements === "full" ? { a: v4, aaaa: v6 } : {}),
      cname: `${app.name}.fly.dev`,
      acme_challenge: { name: `_acme-challenge.${bare}`, target: `${bare}.${app.id}.flydns.net` },
      ownership: { name: `_fly-ownership.${bare}`, app_value: `app-${app.id}`, org_value: `org-${app.orgSlug}` },
    },
    validation: {
      dns_configured: active,
      alpn_configured: active,
      http_configured: active,
      ownership_txt_configured: false,
    },
    validation_errors: [],
    certificates: [
      {
        source: "fly",
        status: active ? "active" : "pending_validation",
        created_at: cert.created_at,
        ...(active
          ? {
              issuer: "Let's Encrypt",
              expires_at: expires,
              issued: [
                { type: "ecdsa", certificate_authority: "lets_encrypt", expires_at: expires },
                { type: "rsa", certificate_authority: "lets_encrypt", expires_at: expires },
              ],
            }
          : { issued: [] }),
      },
    ],
  };
}

export function certificateRoutes(ctx: FakeContext, behaviour: CertificateBehaviour): Route[] {
  const base = "/v1/apps/:app/certificates";
  const find = (app: FakeApp, hostname: string) => {
    const cert = app.certificates.get(hostname);
    if (!cert) throw new HttpError(404, `certificate not found: ${hostname}`);
    return cert;
  };
  const pending = (hostname: string) =>
    typeof behaviour.stayPending === "function" ? behaviour.stayPending(hostname) : behaviour.stayPending;
  return [
    {
      method: "POST",
      path: `${base}/acme`,
      handle: ({ app, body }) => {
        const input = validBody<CreateAcmeCertificateRequest>(ctx, "createAcmeCertificateRequest", body);
        const hostname = input.hostname ?? "";
        if (!HOSTNAME.test(hostname)) throw new HttpError(422, `invalid hostname "${hostname}"`);
        if (hostname.endsWith(".fly.dev"))
          throw new HttpError(422, `${hostname} is a fly.dev hostname and already has a certificate`);
        for (const other of ctx.state.apps.values()) {
          if (other.certificates.has(hostname)) {
            throw new HttpError(
              422,
              other === app
                ? `hostname ${hostname} already exists on this app`
                : `hostname ${hostname} is already in use by another app`,
            );
          }
        }
        const cert: FakeCertificate = { hostname, created_at: nowIso(), state: "pending", checks: 0 };
        app!.certificates.set(hostname, cert);
        return json(detail(app!, cert, behaviour), 201);
      },
    },
    {
      method: "GET",
      path: `${base}/:hostname`,
      handle: ({ app, params }) => json(detail(app!, find(app!, params.hostname!), behaviour)),
    },
    {
      method: "DELETE",
      path: `${base}/:hostname`,
      handle: ({ app, params }) => {
        find(app!, params.hostname!);
        app!.certificates.delete(params.hostname!);
        return empty(204);
      },
    },
    {
      method: "POST",
      path: `${base}/:hostname/check`,
      handle: ({ app, params }) => {
        const cert = find(app!, params.hostname!);
        cert.checks += 1;
        const stuck = pending(cert.hostname);
        if (!stuck) cert.state = "active";
        const { v4, v6 } = publicIps(app!);
        const records: DnsRecords = stuck
          ? { a: [], aaaa: [], cname: [], resolved_addresses: [], soa: "ns1.example-dns.net" }
          : { a: v4, aaaa: v6, cname: [], resolved_addresses: [...v4, ...v6], soa: "ns1.example-dns.net" };
        const body = { ...detail(app!, cert, behaviour), dns_records: records };
        if (stuck) {
          body.validation_errors = [
            {
              code: "dns_not_configured",
              message: `${cert.hostname} does not resolve to this app's addresses`,
              remediation: "create the A/AAAA or CNAME record",
              timestamp: nowIso(),
            },
          ];
        }
        return json(body);
      },
    },
  ];
}
