// The service half of fly.toml: [http_service] (with its checks) and top-level [checks], read the way
// flyctl's service.go / toplevelcheck.go / patches.go read them.

import { type Reader, type Table, joinPath } from "./config-reader.ts";
import type { HttpCheck, HttpService, TopLevelCheck } from "./flytoml.ts";

export const GROUPS_ONLY_APP = "Flightdeck deploys one process group (\"app\"); use separate apps for workers";

/** `processes = ["app"]` (what `fly launch` writes) is fine; any other group is not deployed by us. */
export function checkProcesses(r: Reader, path: string, value: unknown): void {
  const list = r.stringArray(path, value);
  if (list?.some((p) => p !== "app")) r.problem(path, GROUPS_ONLY_APP);
}

function readHttpCheck(r: Reader, path: string, value: unknown, extra: readonly string[] = []): (HttpCheck & { raw: Table }) | undefined {
  const t = r.table(path, value, ["grace_period", "interval", "method", "timeout", "path", "protocol", "tls_skip_verify", "tls_server_name", "headers", ...extra]);
  if (!t) return undefined;
  const out: HttpCheck & { raw: Table } = { raw: t };
  // flyctl `_patchCheck`: integers here are milliseconds, unlike kill_timeout.
  const grace = r.duration(joinPath(path, "grace_period"), t.grace_period, "ms");
  if (grace !== undefined) out.gracePeriodMs = grace;
  const interval = r.duration(joinPath(path, "interval"), t.interval, "ms");
  if (interval !== undefined) out.intervalMs = interval;
  const timeout = r.duration(joinPath(path, "timeout"), t.timeout, "ms");
  if (timeout !== undefined) out.timeoutMs = timeout;
  const method = r.string(joinPath(path, "method"), t.method, { pattern: /^[A-Za-z]+$/, rule: "an HTTP method such as GET" });
  if (method) out.method = method;
  const p = r.string(joinPath(path, "path"), t.path, { pattern: /^\//, rule: "must start with /" });
  if (p) out.path = p;
  const protocol = r.oneOf(joinPath(path, "protocol"), t.protocol, ["http", "https"] as const);
  if (protocol) out.protocol = protocol;
  const skip = r.bool(joinPath(path, "tls_skip_verify"), t.tls_skip_verify);
  if (skip !== undefined) out.tlsSkipVerify = skip;
  const sni = r.string(joinPath(path, "tls_server_name"), t.tls_server_name);
  if (sni) out.tlsServerName = sni;
  if (t.headers !== undefined) {
    const h = r.table(joinPath(path, "headers"), t.headers, Object.keys(isObj(t.headers) ? t.headers : {}));
    if (h) {
      out.headers = {};
      for (const [k, v] of Object.entries(h)) {
        const s = r.string(joinPath(joinPath(path, "headers"), k), v);
        if (s !== undefined) out.headers[k] = s;
      }
    }
  }
  return out;
}

function isObj(v: unknown): v is Table {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function withoutRaw<T extends { raw: Table }>(c: T): Omit<T, "raw"> {
  const { raw: _raw, ...rest } = c;
  return rest;
}

export function readHttpService(r: Reader, value: unknown): HttpService | undefined {
  const t = r.table("http_service", value, ["internal_port", "force_https", "auto_stop_machines", "auto_start_machines", "min_machines_running", "concurrency", "checks", "processes"], {
    tls_options: "not deployed", http_options: "not deployed", machine_checks: "not run",
  });
  if (!t) return undefined;
  checkProcesses(r, "http_service.processes", t.processes);
  const internalPort = r.required("http_service.internal_port", r.integer("http_service.internal_port", t.internal_port, { min: 1, max: 65535 }), t.internal_port, "the port the app listens on");
  const out: HttpService = { internalPort: internalPort ?? 0, forceHttps: r.bool("http_service.force_https", t.force_https) ?? false, checks: [] };
  // fly-go MachineAutostop accepts "off" | "stop" | "suspend" or the legacy booleans.
  const stop = t.auto_stop_machines;
  if (stop === true) out.autoStopMachines = "stop";
  else if (stop === false) out.autoStopMachines = "off";
  else if (stop !== undefined) {
    const s = r.oneOf("http_service.auto_stop_machines", stop, ["off", "stop", "suspend"] as const);
    if (s) out.autoStopMachines = s;
  }
  const start = r.bool("http_service.auto_start_machines", t.auto_start_machines);
  if (start !== undefined) out.autoStartMachines = start;
  const min = r.integer("http_service.min_machines_running", t.min_machines_running, { min: 0 });
  if (min !== undefined) out.minMachinesRunning = min;
  if (out.autoStopMachines !== undefined && out.autoStopMachines !== "off" && out.autoStartMachines === false) {
    r.problem("http_service.auto_start_machines", "false with auto_stop_machines on means stopped machines never come back and requests fail; set it to true");
  }
  if (t.concurrency !== undefined) {
    const c = r.table("http_service.concurrency", t.concurrency, ["type", "soft_limit", "hard_limit"]);
    if (c) {
      // No type = the API default ("connections"); flyctl leaves it out too.
      const type = r.oneOf("http_service.concurrency.type", c.type, ["requests", "connections"] as const);
      const soft = r.integer("http_service.concurrency.soft_limit", c.soft_limit, { min: 1 });
      const hard = r.integer("http_service.concurrency.hard_limit", c.hard_limit, { min: 1 });
      if (soft !== undefined && hard !== undefined && soft > hard) r.problem("http_service.concurrency.soft_limit", `${soft} is above hard_limit ${hard}`);
      if (c.type === undefined || type) {
        out.concurrency = {};
        if (type) out.concurrency.type = type;
        if (soft !== undefined) out.concurrency.softLimit = soft;
        if (hard !== undefined) out.concurrency.hardLimit = hard;
      }
    }
  }
  for (const entry of r.tables("http_service.checks", t.checks)) {
    const check = readHttpCheck(r, entry.path, entry.value);
    if (check) out.checks.push(withoutRaw(check));
  }
  return out;
}

export function readTopLevelChecks(r: Reader, value: unknown, http: HttpService | undefined): Record<string, TopLevelCheck> {
  const out: Record<string, TopLevelCheck> = {};
  if (value === undefined) return out;
  const names = isObj(value) ? Object.keys(value) : [];
  const t = r.table("checks", value, names);
  if (!t) return out;
  for (const name of names) {
    const path = joinPath("checks", name);
    const check = readHttpCheck(r, path, t[name], ["type", "port", "processes"]);
    if (!check) continue;
    checkProcesses(r, joinPath(path, "processes"), check.raw.processes);
    const type = r.required(joinPath(path, "type"), r.oneOf(joinPath(path, "type"), check.raw.type, ["http", "tcp"] as const), check.raw.type, "\"http\" or \"tcp\"");
    const port = r.integer(joinPath(path, "port"), check.raw.port, { min: 1, max: 65535 });
    // flyctl validation.go: flaps refuses intervals under 2 s and timeouts over 60 s for top-level checks.
    if (check.intervalMs !== undefined && check.intervalMs < 2000) r.problem(joinPath(path, "interval"), "must be at least 2s (the Machines API minimum)");
    if (check.timeoutMs !== undefined && check.timeoutMs > 60_000) r.problem(joinPath(path, "timeout"), "must be at most 60s (the Machines API maximum)");
    if (port === undefined && check.raw.port === undefined && http === undefined) {
      r.problem(joinPath(path, "port"), "required when there is no [http_service] to take internal_port from");
    }
    if (!type) continue;
    const c: TopLevelCheck = { ...withoutRaw(check), type };
    if (c.method) c.method = c.method.toUpperCase(); // flyctl upper-cases top-level check methods only
    if (port !== undefined) c.port = port;
    out[name] = c;
  }
  return out;
}
