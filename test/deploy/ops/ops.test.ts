// The pure parts of logs, certs and exec: how a log entry becomes one safe line, which hostnames are accepted
// and what DNS records they need, and how an exec answer becomes an exit status.
import { describe, expect, test } from "bun:test";
import type { CertificateDetail } from "../../../lib/fly/types.ts";
import { dnsInstructions, isApex, isIssued, normalizeHostname } from "../../../deploy/ops/certs.ts";
import { displayCommand, exitStatus } from "../../../deploy/ops/exec.ts";
import { entryJson, formatLogLine, oneLine } from "../../../deploy/ops/logs.ts";

describe("log lines", () => {
  const entry = {
    id: "01H",
    timestamp: "2026-05-07T10:00:00.123456789Z",
    message: "hello\n",
    level: "info",
    instance: "148ed193b95d89",
    region: "ewr",
    meta: { event: { provider: "app" } },
  };
  test("time, region, machine, level, message; blanks are '-'", () => {
    expect(formatLogLine(entry)).toBe("2026-05-07T10:00:00.123456789Z ewr 148ed193b95d89 info  hello");
    expect(formatLogLine({ ...entry, region: "", instance: "", level: "" })).toBe(
      "2026-05-07T10:00:00.123456789Z - - -     hello",
    );
    expect(entryJson(entry)).toMatchObject({ machine: "148ed193b95d89", message: "hello\n" });
  });
  test("inner line breaks and control characters are escaped; tabs and unicode stay", () => {
    expect(oneLine("a\r\nb\u001b[2Jc\u0000\td é\n")).toBe("a\\r\\nb\\x1b[2Jc\\x00\td é");
  });
});

describe("hostnames", () => {
  test("normalized: lower case, trailing dot dropped, IDN to punycode, wildcards kept", () => {
    expect(normalizeHostname(" WWW.Example.COM. ")).toBe("www.example.com");
    expect(normalizeHostname("bücher.example")).toBe("xn--bcher-kva.example");
    expect(normalizeHostname("*.example.com")).toBe("*.example.com");
  });
  test.each([
    "",
    "http://a.com",
    "a.com:443",
    "a b.com",
    "1.2.3.4",
    "[::1]",
    "localhost",
    "co.uk",
    "x.fly.dev",
    "*.*.a.com",
    "a-.example.com",
    "user@a.com",
  ])("refused: %p", (host) => {
    expect(() => normalizeHostname(host)).toThrow();
  });
  test("apex by the Public Suffix List (flyctl: publicsuffix.EffectiveTLDPlusOne)", () => {
    expect([
      isApex("example.com"),
      isApex("example.co.uk"),
      isApex("www.example.co.uk"),
      isApex("me.github.io"),
      isApex("*.example.com"),
    ]).toEqual([true, true, false, true, false]);
  });
});

describe("DNS instructions", () => {
  const ips = [
    { ip: "2a09:8280:1::1:2", shared: false },
    { ip: "66.241.124.9", shared: true },
    { ip: "fdaa:0:1::3", shared: false },
    { ip: "137.66.1.1", egress: true },
  ];
  const pending: CertificateDetail = {
    hostname: "www.example.com",
    certificates: [{ source: "fly", status: "pending_validation" }],
  };
  test("subdomain: CNAME to <app>.fly.dev, A/AAAA as the alternative (public addresses only)", () => {
    const dns = dnsInstructions("web", pending, ips);
    expect(dns.routing).toEqual([{ type: "CNAME", name: "www.example.com", value: "web.fly.dev" }]);
    expect(dns.alternative.map((r) => r.value)).toEqual(["66.241.124.9", "2a09:8280:1::1:2"]);
    expect(dns.warnings).toEqual([]);
  });
  test("requirements from Fly win over the app's IPs; no IPs at all is a warning to deploy first", () => {
    const dns = dnsInstructions(
      "web",
      { ...pending, hostname: "example.com", dns_requirements: { a: ["1.1.1.1"], aaaa: ["::1"] } },
      ips,
    );
    expect(dns.routing.map((r) => `${r.type} ${r.value}`)).toEqual(["A 1.1.1.1", "AAAA ::1"]);
    expect(dnsInstructions("web", { ...pending, hostname: "example.com" }, []).warnings[0]).toContain(
      "deploy it first",
    );
    expect(dnsInstructions("web", pending, [ips[1]!]).warnings[0]).toContain("no IPv6");
  });
  test("issued only with an active Fly certificate (a custom one does not count)", () => {
    expect(isIssued(pending)).toBe(false);
    expect(isIssued({ certificates: [{ source: "custom", status: "active" }] })).toBe(false);
    expect(isIssued({ certificates: [{ source: "fly", status: "active" }] })).toBe(true);
  });
});

describe("exec exit status", () => {
  test.each([
    [{}, { code: 0 }],
    [{ stdout: "x" }, { code: 0 }],
    [{ exit_code: 0 }, { code: 0 }],
    [{ exit_code: 3 }, { code: 3 }],
    [{ exit_code: 127 }, { code: 127 }],
    [{ exit_signal: 9 }, { code: 137, signal: 9 }],
    [
      { exit_code: -1, exit_signal: 15 },
      { code: 143, signal: 15 },
    ],
    [{ exit_code: 0, exit_signal: 0 }, { code: 0 }],
    [{ exit_code: -1 }, { code: 1 }],
    [{ exit_code: 300 }, { code: 1 }],
  ])("%j -> %j", (reply, expected) => {
    expect(exitStatus(reply)).toEqual(expected);
  });
  test("the progress line quotes words a shell would split", () => {
    expect(displayCommand(["sh", "-c", "echo it's; exit 1"])).toBe(`sh -c 'echo it'\\''s; exit 1'`);
  });
});
