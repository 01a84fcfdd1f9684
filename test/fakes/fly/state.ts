// The fake Fly platform's data: apps and what lives in them. Plain objects so tests can inspect (and, when a
// scenario needs it, seed) the "remote" state directly.

import type { LogEntry } from "../../../lib/fly/logs.ts";
import type {
  AppSecret,
  CheckStatus,
  IpAssignment,
  MachineConfig,
  MachineEvent,
  Volume,
} from "../../../lib/fly/types.ts";

export interface FakeLease {
  nonce: string;
  owner: string;
  description: string;
  /** Unix seconds, as the API reports it. */
  expires_at: number;
  version: string;
}

export interface FakeMachine {
  id: string;
  name: string;
  appName: string;
  region: string;
  state: string;
  version: string;
  config: MachineConfig;
  versions: { version: string; user_config: MachineConfig }[];
  events: MachineEvent[];
  checks: CheckStatus[];
  lease?: FakeLease;
  cordoned: boolean;
  private_ip: string;
  created_at: string;
  updated_at: string;
  /** Secrets version the machine booted with (min_secrets_version or the app's current version). */
  secretsVersion: number;
  skipServiceRegistration: boolean;
  /** Bumped by every lifecycle action so stale timers of an earlier action do nothing. */
  generation: number;
  /** Real time (ms) of the create and of reaching `destroyed`: what clock mode's list lag and 404 window count from. */
  bornAt: number;
  goneAt?: number;
  /** Exit code of the last exit of the main process, when it exited on its own (release machines). */
  exitCode?: number;
}

export interface FakeSecret {
  name: string;
  value: string;
  digest: string;
  created_at: string;
  updated_at: string;
}

export interface FakeApp {
  id: string;
  name: string;
  orgSlug: string;
  network: string;
  idempotencyKey?: string;
  createdAt: number;
  machines: Map<string, FakeMachine>;
  volumes: Map<string, Volume>;
  secrets: Map<string, FakeSecret>;
  secretsVersion: number;
  ips: IpAssignment[];
  /** An app becomes "deployed" once a machine of it has started (fly-go App.Deployed). */
  deployed: boolean;
  /** ACME certificates by hostname (./certificates.ts). */
  certificates: Map<string, FakeCertificate>;
  /** Log lines in arrival order (./logs.ts). */
  logs: FakeLogEntry[];
  /** Set once a delete was accepted while the app lingers (faults.lingerAfterDelete): reads left before 404. */
  deleting?: { readsLeft: number };
}

export interface FakeCertificate {
  hostname: string;
  created_at: string;
  /** Pending until a `check` finds DNS in place (certificates.ts), then active with issued certificates. */
  state: "pending" | "active";
  checks: number;
}

/** A log entry as the logs endpoint serves it, plus its place in the fake's one global sequence. */
export interface FakeLogEntry extends LogEntry {
  /** next_token encodes the last one a page returned. */
  seq: number;
}

export interface FakeState {
  apps: Map<string, FakeApp>;
}

export function createState(): FakeState {
  return { apps: new Map() };
}

export function randomHex(length: number): string {
  const bytes = crypto.getRandomValues(new Uint8Array(Math.ceil(length / 2)));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0"))
    .join("")
    .slice(0, length);
}

const CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/** 26-character ULID-looking machine version, like the API's. Time-ordered so versions sort by age. */
export function newVersion(): string {
  let time = Date.now();
  let head = "";
  for (let i = 0; i < 10; i++) {
    head = CROCKFORD[time % 32] + head;
    time = Math.floor(time / 32);
  }
  const random = crypto.getRandomValues(new Uint8Array(16));
  let tail = "";
  for (const byte of random) tail += CROCKFORD[byte % 32];
  return head + tail;
}

export function nowIso(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
}

export function secretDigest(value: string): string {
  return new Bun.CryptoHasher("sha256").update(value).digest("hex").slice(0, 16);
}

export function secretView(secret: FakeSecret, showValue: boolean): AppSecret {
  return {
    name: secret.name,
    digest: secret.digest,
    created_at: secret.created_at,
    updated_at: secret.updated_at,
    ...(showValue ? { value: secret.value } : {}),
  };
}
