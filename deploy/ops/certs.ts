// `certs add|show|check|remove HOST`: a Fly-issued (ACME) certificate for a custom domain, through the
// Machines API (`/v1/apps/{app}/certificates/acme`, `.../{host}`, `.../{host}/check`) instead of flyctl.
//
// What to put in DNS follows Fly's custom-domain docs and flyctl's `certs` output (certificates/root.go
// printDNSOptions): an apex domain (example.com, foo.co.uk) cannot carry a CNAME, so it gets A and AAAA
// records; a subdomain gets a CNAME to the app's fly.dev name, or the same A/AAAA. The addresses come from
// the certificate's `dns_requirements`, or from the app's own public IPs when Fly leaves them out. The
// `_acme-challenge` CNAME lets Fly issue before traffic moves (and is required for a wildcard). Apex means
// "the registrable domain" by the Public Suffix List, which flyctl reads through golang.org/x/net/publicsuffix
// and we read through tldts.
//
// `check` asks Fly to look at DNS again and exits 0 only once the certificate is issued, 1 while it is not:
// "exit 0 is a promise", and a CI step or a shell loop can wait on it.

import { domainToASCII } from "node:url";
import { getDomain, parse } from "tldts";
import type { FlyClient } from "../../lib/fly/client.ts";
import { isFlyApiError } from "../../lib/fly/errors.ts";
import type { CertificateCheckResponse, CertificateDetail, IpAssignment } from "../../lib/fly/types.ts";
import { type CommandContext, flyClient, loadConfig } from "./context.ts";
import { CommandOutcome } from "./outcome.ts";
import { DeployError, usageError } from "../deploy-error.ts";

export interface DnsRecord {
  type: "A" | "AAAA" | "CNAME" | "TXT";
  name: string;
  value: string;
}

export interface DnsInstructions {
  hostname: string;
  apex: boolean;
  wildcard: boolean;
  /** Records that send traffic to the app: one set to create (alternatives are listed separately). */
  routing: DnsRecord[];
  /** The other way to route a subdomain (A/AAAA when routing is the CNAME); empty for an apex. */
  alternative: DnsRecord[];
  /** `_acme-challenge` CNAME: optional, except for a wildcard. */
  acmeChallenge?: DnsRecord;
  /** Ownership TXT record (needed when the app has no IPv6 or traffic goes through a CDN/proxy). */
  ownership?: DnsRecord;
  warnings: string[];
}

const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

/**
 * A hostname a certificate can be issued for, lower-cased and in ASCII (IDNs become punycode), or a usage
 * error saying why not. A leading `*.` asks for a wildcard certificate.
 */
export function normalizeHostname(input: string): string {
  const raw = input.trim().toLowerCase().replace(/\.$/, "");
  const shown = JSON.stringify(input.slice(0, 100));
  if (raw === "") throw usageError("the hostname is empty");
  if (/[/:@?#\s]/.test(raw))
    throw usageError(`${shown} is not a hostname: give just the name, e.g. www.example.com (no scheme, port or path)`);
  const wildcard = raw.startsWith("*.");
  const name = domainToASCII(wildcard ? raw.slice(2) : raw);
  if (name === "" || name.length > 253 || !name.split(".").every((label) => LABEL.test(label))) {
    throw usageError(
      `${shown} is not a valid hostname: labels of letters, digits and dashes, 63 characters each at most`,
    );
  }
  const parsed = parse(name, { allowPrivateDomains: true });
  if (parsed.isIp) throw usageError(`${shown} is an IP address: certificates are issued for domain names`);
  if (name === "fly.dev" || name.endsWith(".fly.dev")) {
    throw usageError(
      `${shown} is a fly.dev name: Fly already serves <app>.fly.dev with its own certificate, nothing to add`,
    );
  }
  if (!getDomain(name, { allowPrivateDomains: true }) || parsed.isIcann === null) {
    throw usageError(
      `${shown} is not under a public domain suffix (e.g. example.com): Fly can only issue for public names`,
    );
  }
  return wildcard ? `*.${name}` : name;
}

export function isApex(hostname: string): boolean {
  if (hostname.startsWith("*.")) return false;
  return getDomain(hostname, { allowPrivateDomains: true }) === hostname;
}

/** Issued = Fly holds an active certificate of its own for the name (flyctl: certificates[].status == "active"). */
export function isIssued(detail: CertificateDetail): boolean {
  return (detail.certificates ?? []).some((c) => c.source !== "custom" && c.status === "active");
}

/** The DNS records to create for `hostname`, from the certificate's requirements and the app's IPs. */
export function dnsInstructions(app: string, detail: CertificateDetail, ips: readonly IpAssignment[]): DnsInstructions {
  const hostname = detail.hostname ?? "";
  const wildcard = hostname.startsWith("*.");
  const apex = isApex(hostname);
  const req = detail.dns_requirements ?? {};
  // Public addresses only: Flycast (fdaa:) and egress IPs do not take traffic from the internet.
  const publicIps = ips.filter((ip) => ip.ip && !ip.egress && !ip.ip.startsWith("fdaa:"));
  const v4 = req.a?.[0] ?? publicIps.find((ip) => ip.ip!.includes("."))?.ip;
  const v6 = req.aaaa?.[0] ?? publicIps.find((ip) => ip.ip!.includes(":"))?.ip;
  const addresses: DnsRecord[] = [];
  if (v4) addresses.push({ type: "A", name: hostname, value: v4 });
  if (v6) addresses.push({ type: "AAAA", name: hostname, value: v6 });
  const cname: DnsRecord = { type: "CNAME", name: hostname, value: req.cname || `${app}.fly.dev` };
  const warnings: string[] = [];
  if (addresses.length === 0)
    warnings.push(
      `${app} has no public IP addresses yet: deploy it first (the first deploy allocates them), then run certs show ${hostname}`,
    );
  else if (!v6)
    warnings.push(
      `${app} has no IPv6 address: Fly verifies ownership through AAAA, so also create the TXT record below`,
    );
  const instructions: DnsInstructions = {
    hostname,
    apex,
    wildcard,
    routing: apex ? addresses : [cname],
    alternative: apex ? [] : addresses,
    warnings,
  };
  if (req.acme_challenge?.name && req.acme_challenge.target) {
    instructions.acmeChallenge = { type: "CNAME", name: req.acme_challenge.name, value: req.acme_challenge.target };
  }
  if (req.ownership?.name && req.ownership.app_value)
    instructions.ownership = { type: "TXT", name: req.ownership.name, value: req.ownership.app_value };
  return instructions;
}

export function formatInstructions(dns: DnsInstructions): string {
  const record = (r: DnsRecord) => `  ${r.type.padEnd(5)}  ${r.name}  ->  ${r.value}`;
  const lines = [`DNS records for ${dns.hostname} (create them at your DNS provider):`];
  if (dns.routing.length > 0) lines.push(...dns.routing.map(record));
  if (dns.alternative.length > 0)
    lines.push(`or, instead of the CNAME (e.g. where a CNAME is not allowed):`, ...dns.alternative.map(record));
  if (dns.acmeChallenge) {
    lines.push(
      dns.wildcard
        ? "required for a wildcard certificate:"
        : "optional, to have the certificate issued before traffic moves here:",
      record(dns.acmeChallenge),
    );
  }
  if (dns.ownership) lines.push("ownership (needed without IPv6, or behind a CDN or proxy):", record(dns.ownership));
  for (const warning of dns.warnings) lines.push(`note: ${warning}`);
  return `${lines.join("\n")}\n`;
}

function formatStatus(detail: CertificateDetail | CertificateCheckResponse): string {
  const issued = isIssued(detail);
  const lines = [
    `certificate for ${detail.hostname}: ${issued ? "issued" : "not issued yet"} (Fly status: ${detail.status ?? "unknown"})`,
  ];
  for (const cert of detail.certificates ?? []) {
    for (const one of cert.issued ?? [])
      lines.push(`  ${one.type ?? "?"} from ${one.certificate_authority ?? "?"}, expires ${one.expires_at ?? "?"}`);
  }
  for (const problem of detail.validation_errors ?? [])
    lines.push(
      `  problem: ${problem.message ?? problem.code}${problem.remediation ? ` (${problem.remediation})` : ""}`,
    );
  return `${lines.join("\n")}\n`;
}

export async function certsCommand(ctx: CommandContext): Promise<CommandOutcome> {
  const { subcommand, positionals, flags } = ctx.args;
  if (positionals.length !== 1)
    throw usageError(`certs ${subcommand} needs exactly one HOST, e.g. certs ${subcommand} www.example.com`);
  const hostname = normalizeHostname(positionals[0]!);
  if (subcommand === "remove" && flags.yes !== true)
    throw usageError(`certs remove ${hostname} needs --yes: the name stops being served over HTTPS by this app`);
  if (subcommand !== "remove" && flags.yes !== undefined) throw usageError("--yes is only for certs remove");
  const config = await loadConfig(ctx.args);
  const client = flyClient(ctx.io);
  const app = config.app;
  const signal = ctx.io.signal;
  await requireApp(client, app, signal);

  if (subcommand === "remove") return removeCertificate(ctx, client, app, hostname);

  let detail: CertificateDetail | CertificateCheckResponse;
  let created = false;
  if (subcommand === "add") {
    const existing = await client.getCertificate(app, hostname, { signal });
    if (existing) {
      ctx.output.step(`${hostname} is already on ${app}: showing it`);
      detail = existing;
    } else {
      ctx.output.step(`asking Fly for a certificate for ${hostname} on ${app}`);
      try {
        detail = await client.createAcmeCertificate(app, hostname, { signal });
        created = true;
      } catch (error) {
        // Another run (or a retried request) may have added it between our GET and POST: then show that one.
        const raced =
          isFlyApiError(error) && error.status === 422
            ? await client.getCertificate(app, hostname, { signal })
            : undefined;
        if (!raced) throw error;
        detail = raced;
      }
    }
  } else if (subcommand === "show") {
    const found = await client.getCertificate(app, hostname, { signal });
    if (!found) throw notFound(app, hostname);
    detail = found;
  } else {
    ctx.output.step(`asking Fly to check DNS for ${hostname} again`);
    try {
      detail = await client.checkCertificate(app, hostname, { signal });
    } catch (error) {
      if (isFlyApiError(error) && error.status === 404) throw notFound(app, hostname);
      throw error;
    }
  }

  const ips = await client.listIpAssignments(app, { signal });
  const dns = dnsInstructions(app, detail, ips);
  const issued = isIssued(detail);
  if (!ctx.output.json) {
    ctx.io.stdout(formatStatus(detail));
    if (!issued) ctx.io.stdout(`\n${formatInstructions(dns)}\nthen: bun deploy/run.ts certs check ${hostname}\n`);
  }
  const json = { app, hostname, created, issued, status: detail.status ?? null, dns, certificate: detail };
  if (subcommand === "check" && !issued) {
    const message = `the certificate for ${hostname} is not issued yet: create the DNS records shown, wait for DNS to update, and run certs check ${hostname} again`;
    ctx.io.stderr(`error: ${message}\n`);
    // The usual --json error object, next to what was read (so a script sees both the state and the records).
    return new CommandOutcome(1, { ...json, error: { code: "certificate_pending", message, exitCode: 1 } });
  }
  return new CommandOutcome(0, json);
}

async function removeCertificate(
  ctx: CommandContext,
  client: FlyClient,
  app: string,
  hostname: string,
): Promise<CommandOutcome> {
  const signal = ctx.io.signal;
  const existing = await client.getCertificate(app, hostname, { signal });
  if (!existing) {
    ctx.output.step(`${app} has no certificate for ${hostname}: nothing to remove`);
    return new CommandOutcome(0, { app, hostname, removed: false });
  }
  ctx.output.step(`removing the certificate for ${hostname} from ${app}`);
  await client.deleteCertificate(app, hostname, { signal });
  // Exit 0 only for what was re-read: the certificate must be gone.
  if (await client.getCertificate(app, hostname, { signal })) {
    throw new DeployError(
      "api_error",
      `Fly accepted the removal of ${hostname} but still lists it; run certs show ${hostname} in a moment`,
      1,
      { app, hostname },
    );
  }
  ctx.output.step(`certificate for ${hostname} removed; remove its DNS records too`);
  return new CommandOutcome(0, { app, hostname, removed: true });
}

/** Both an unknown app and an unknown hostname answer 404 on the certificate paths: ask for the app first. */
async function requireApp(client: FlyClient, app: string, signal: AbortSignal | undefined): Promise<void> {
  try {
    await client.getApp(app, { signal });
  } catch (error) {
    if (isFlyApiError(error) && error.status === 404) {
      throw new DeployError(
        "preflight_failed",
        `app ${app} does not exist: deploy it first (bun deploy/run.ts deploy), then add its domain`,
        2,
        { app },
      );
    }
    throw error;
  }
}

function notFound(app: string, hostname: string): DeployError {
  return new DeployError(
    "preflight_failed",
    `${app} has no certificate for ${hostname}: add one with bun deploy/run.ts certs add ${hostname}`,
    2,
    { app, hostname },
  );
}
