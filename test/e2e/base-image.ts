/**
 * The local stand-in for `oven/bun:<version>-slim` (no Docker Hub here): a Debian bookworm rootfs made
 * with debootstrap from the same mirror this machine's apt uses, Bun from its npm package
 * (@oven/bun-linux-x64, checked against the registry's sha512 integrity), and the `bun` user (uid 1000)
 * that oven/bun images have. The rootfs tarball is cached under .cache/e2e/ so reruns skip debootstrap.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildah, sh } from "./sh.ts";

export const BASE_TAG = `docker.io/oven/bun:${Bun.version}-slim`;
const LOCAL_CAS = "/usr/local/share/ca-certificates";
const HOST_BUNDLE = "/etc/ssl/certs/ca-certificates.crt";

/** First `deb` mirror for bookworm in /etc/apt/sources.list{,.d/*} (one-line or deb822 format). */
export function debianMirror(): string {
  const files = ["/etc/apt/sources.list"];
  if (existsSync("/etc/apt/sources.list.d")) {
    for (const f of readdirSync("/etc/apt/sources.list.d").sort()) files.push(join("/etc/apt/sources.list.d", f));
  }
  for (const file of files) {
    if (!existsSync(file)) continue;
    const text = readFileSync(file, "utf8");
    for (const line of text.split("\n")) {
      const m = /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+bookworm\s/.exec(line.trim());
      if (m) return m[1]!;
    }
    for (const stanza of text.split(/\n\s*\n/)) {
      const uris = /^URIs:\s*(\S+)/m.exec(stanza)?.[1];
      const suites = /^Suites:\s*(.+)$/m.exec(stanza)?.[1]?.split(/\s+/) ?? [];
      if (uris && suites.includes("bookworm") && !/^Enabled:\s*no/im.test(stanza)) return uris;
    }
  }
  return "http://deb.debian.org/debian";
}

async function bunFromNpm(version: string): Promise<Uint8Array> {
  const meta = (await (await fetch(`https://registry.npmjs.org/@oven%2fbun-linux-x64/${version}`)).json()) as {
    dist?: { tarball: string; integrity: string };
  };
  if (!meta.dist) throw new Error(`@oven/bun-linux-x64@${version} not found on the npm registry`);
  const tgz = new Uint8Array(await (await fetch(meta.dist.tarball)).arrayBuffer());
  const integrity = `sha512-${new Bun.CryptoHasher("sha512").update(tgz).digest("base64")}`;
  if (integrity !== meta.dist.integrity) throw new Error("bun npm tarball failed its integrity check");
  return tgz;
}

/** Ensure BASE_TAG exists in buildah's local storage; returns the cached rootfs tarball path. */
export async function ensureBaseImage(cacheDir: string, log: (line: string) => void): Promise<string> {
  mkdirSync(cacheDir, { recursive: true });
  const mirror = debianMirror();
  const rootfsTar = join(cacheDir, `bookworm-bun-${Bun.version}.tar`);
  if (!existsSync(rootfsTar)) {
    const rootfs = join(cacheDir, "rootfs");
    rmSync(rootfs, { recursive: true, force: true });
    log(`debootstrap bookworm from ${mirror} (cached afterwards in ${rootfsTar})`);
    await sh(["debootstrap", "--variant=minbase", "--include=ca-certificates", "bookworm", rootfs, mirror]);
    const tgz = await bunFromNpm(Bun.version);
    writeFileSync(join(cacheDir, "bun.tgz"), tgz);
    await sh(["tar", "-xzf", join(cacheDir, "bun.tgz"), "-C", cacheDir, "package/bin/bun"]);
    await sh(["install", "-m", "0755", join(cacheDir, "package/bin/bun"), join(rootfs, "usr/local/bin/bun")]);
    await sh(["ln", "-sf", "bun", join(rootfs, "usr/local/bin/bunx")]);
    await sh(["chroot", rootfs, "groupadd", "--gid", "1000", "bun"]);
    await sh([
      "chroot",
      rootfs,
      "useradd",
      "--uid",
      "1000",
      "--gid",
      "bun",
      "--shell",
      "/bin/sh",
      "--create-home",
      "bun",
    ]);
    await sh(["chroot", rootfs, "apt-get", "clean"]);
    await sh(["tar", "--numeric-owner", "-C", rootfs, "-cf", `${rootfsTar}.tmp`, "."]);
    await sh(["mv", `${rootfsTar}.tmp`, rootfsTar]);
    rmSync(rootfs, { recursive: true, force: true });
    rmSync(join(cacheDir, "package"), { recursive: true, force: true });
  }
  const present = await buildah(["images", "--noheading", "--format", "{{.Name}}:{{.Tag}}"], { quiet: true });
  if (!present.stdout.split("\n").includes(BASE_TAG)) {
    log(`importing ${rootfsTar} as ${BASE_TAG}`);
    const ctr = (await buildah(["from", "scratch"], { quiet: true })).stdout.trim();
    await buildah(["add", ctr, rootfsTar, "/"]);
    // Machines behind a TLS-intercepting egress proxy trust extra CAs (/usr/local/share/ca-certificates);
    // the stand-in base carries this machine's bundle so `bun install` inside a build can reach npm.
    // The real oven/bun image needs none of this.
    const extraCas = existsSync(LOCAL_CAS) && readdirSync(LOCAL_CAS).some((f) => f.endsWith(".crt"));
    if (extraCas) await buildah(["copy", ctr, HOST_BUNDLE, HOST_BUNDLE]);
    await buildah([
      "config",
      ...(extraCas ? ["--env", `NODE_EXTRA_CA_CERTS=${HOST_BUNDLE}`] : []),
      "--env",
      "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
      "--cmd",
      '["/usr/local/bin/bun"]',
      "--os",
      "linux",
      "--arch",
      "amd64",
      ctr,
    ]);
    await buildah(["commit", "--format", "oci", "--rm", ctr, BASE_TAG]);
  }
  return rootfsTar;
}
