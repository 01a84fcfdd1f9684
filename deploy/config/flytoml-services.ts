// [http_service], [[services]] and [checks] of fly.toml, with flyctl's quirks (internal/appconfig/service.go,
// toplevelcheck.go, patches.go `_patchService` / `_patchCheck`): ports and internal_port may be strings,
// concurrency may be the old "soft,hard" string, check durations given as integers are milliseconds, and
// check headers may be a table or a list of {name, value}.

import { type Reader, type Table, isTable, joinPath } from "./config-reader.ts";
import type {
  AutoStop,
  Concurrency,
  HttpCheck,
  HttpService,
  PortOptions,
  Service,
  ServiceCheck,
  ServicePort,
  TopLevelCheck,
} from "./flytoml-types.ts";

const CHECK_KEYS = [
  "grace_period",
  "interval",
  "method",
  "timeout",
  "path",
  "protocol",
  "tls_skip_verify",
  "tls_server_name",
  "headers",
];
const MACHINE_CHECKS_NOTE =
  "machine_checks start test machines during a flyctl deploy; Flightdeck checks health with the service and top-level checks";

/** `processes = [...]` on a section. Group names are checked against [processes] later (checkGroupNames). */
export function readProcesses(r: Reader, path: string, value: unknown): string[] {
  return r.stringArray(path, value) ?? [];
}

function readHeaders(r: Reader, path: string, value: unknown): Record<string, string> | undefined {
  if (value === undefined) return undefined;
  const out: Record<string, string> = {};
  const str = (v: unknown) => (typeof v === "string" ? v : String(v));
  if (Array.isArray(value)) {
    // Old format: [[...headers]] name = "x", value = "y" (flyctl `_patchCheckHeaders`).
    value.forEach((item, i) => {
      if (!isTable(item) || item.name === undefined)
        r.problem(joinPath(path, i), "expected a table with name and value");
      else out[str(item.name)] = item.value === undefined ? "" : str(item.value);
    });
  } else if (isTable(value)) {
    for (const [k, v] of Object.entries(value)) out[k] = str(v);
  } else {
    r.problem(path, `expected a table of header = value, got ${typeof value}`);
    return undefined;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

function readCheckFields(r: Reader, path: string, t: Table): HttpCheck {
  const out: HttpCheck = {};
  // flyctl `_patchCheck`: integers here are milliseconds, unlike kill_timeout.
  const grace = r.duration(joinPath(path, "grace_period"), t.grace_period, "ms");
  if (grace !== undefined) out.gracePeriodMs = grace;
  const interval = r.duration(joinPath(path, "interval"), t.interval, "ms");
  if (interval !== undefined) out.intervalMs = interval;
  const timeout = r.duration(joinPath(path, "timeout"), t.timeout, "ms");
  if (timeout !== undefined) out.timeoutMs = timeout;
  const method = r.string(joinPath(path, "method"), t.method, {
    pattern: /^[A-Za-z]+$/,
    rule: "an HTTP method such as GET",
  });
  if (method) out.method = method;
  const p = r.string(joinPath(path, "path"), t.path, { pattern: /^\//, rule: "must start with /" });
  if (p) out.path = p;
  const protocol = r.string(joinPath(path, "protocol"), t.protocol);
  if (protocol) out.protocol = protocol;
  const skip = r.bool(joinPath(path, "tls_skip_verify"), t.tls_skip_verify);
  if (skip !== undefined) out.tlsSkipVerify = skip;
  const sni = r.string(joinPath(path, "tls_server_name"), t.tls_server_name);
  if (sni) out.tlsServerName = sni;
  const headers = readHeaders(r, joinPath(path, "headers"), t.headers);
  if (headers) out.headers = headers;
  return out;
}

function readServiceChecks(r: Reader, path: string, value: unknown, type: "http" | "tcp"): ServiceCheck[] {
  const out: ServiceCheck[] = [];
  const keys = type === "http" ? CHECK_KEYS : ["grace_period", "interval", "timeout"];
  for (const entry of r.tables(path, value)) {
    const t = r.table(entry.path, entry.value, keys, {
      restart_limit: "Apps V1 restarted a VM after failed checks; Machines restart by [[restart]] policy",
    });
    if (t) out.push({ type, ...readCheckFields(r, entry.path, t) });
  }
  return out;
}

/** fly-go MachineAutostop accepts "off" | "stop" | "suspend" or the legacy booleans. */
function readAutoStop(r: Reader, path: string, value: unknown): AutoStop | undefined {
  if (value === true) return "stop";
  if (value === false) return "off";
  return r.oneOf(path, value, ["off", "stop", "suspend"] as const);
}

function readConcurrency(r: Reader, path: string, value: unknown): Concurrency | undefined {
  if (value === undefined) return undefined;
  if (typeof value === "string") {
    // flyctl `_patchService`: the old "soft,hard" string means request concurrency.
    const m = /^\s*(\d+)\s*,\s*(\d+)\s*$/.exec(value);
    if (!m) {
      r.problem(path, `${JSON.stringify(value)} is not "soft,hard" limits; write a [concurrency] table`);
      return undefined;
    }
    return { type: "requests", softLimit: Number(m[1]), hardLimit: Number(m[2]) };
  }
  const c = r.table(path, value, ["type", "soft_limit", "hard_limit"]);
  if (!c) return undefined;
  const out: Concurrency = {};
  // No type = the API default ("connections"); flyctl leaves it out too. Fly knows "requests" and "connections".
  const type = r.string(joinPath(path, "type"), c.type);
  if (type !== undefined) {
    if (type !== "requests" && type !== "connections")
      r.warn(
        joinPath(path, "type"),
        `${JSON.stringify(type)} is not "requests" or "connections"; the Fly proxy may refuse it`,
      );
    out.type = type;
  }
  const soft = r.intLike(joinPath(path, "soft_limit"), c.soft_limit, { min: 1 });
  const hard = r.intLike(joinPath(path, "hard_limit"), c.hard_limit, { min: 1 });
  if (soft !== undefined && hard !== undefined && soft > hard)
    r.problem(joinPath(path, "soft_limit"), `${soft} is above hard_limit ${hard}`);
  if (soft !== undefined) out.softLimit = soft;
  if (hard !== undefined) out.hardLimit = hard;
  return out;
}

function readOptions(r: Reader, path: string, value: unknown): PortOptions | undefined {
  if (value === undefined) return undefined;
  if (!isTable(value)) {
    r.problem(path, "expected a table");
    return undefined;
  }
  return value;
}

function readPorts(r: Reader, path: string, value: unknown): ServicePort[] {
  const out: ServicePort[] = [];
  for (const entry of r.tables(path, value)) {
    const t = r.table(entry.path, entry.value, [
      "port",
      "start_port",
      "end_port",
      "handlers",
      "force_https",
      "tls_options",
      "http_options",
      "proxy_proto_options",
    ]);
    if (!t) continue;
    const p: ServicePort = {};
    const port = r.intLike(joinPath(entry.path, "port"), t.port, { min: 1, max: 65535 });
    if (port !== undefined) p.port = port;
    const start = r.intLike(joinPath(entry.path, "start_port"), t.start_port, { min: 1, max: 65535 });
    if (start !== undefined) p.startPort = start;
    const end = r.intLike(joinPath(entry.path, "end_port"), t.end_port, { min: 1, max: 65535 });
    if (end !== undefined) p.endPort = end;
    if (t.port === undefined && t.start_port === undefined)
      r.problem(entry.path, "needs port, or start_port and end_port");
    const handlers = r.stringArray(joinPath(entry.path, "handlers"), t.handlers);
    if (handlers) p.handlers = handlers;
    const force = r.bool(joinPath(entry.path, "force_https"), t.force_https);
    if (force) p.forceHttps = true;
    const tls = readOptions(r, joinPath(entry.path, "tls_options"), t.tls_options);
    if (tls) p.tlsOptions = tls;
    const http = readOptions(r, joinPath(entry.path, "http_options"), t.http_options);
    if (http) p.httpOptions = http;
    const proxy = readOptions(r, joinPath(entry.path, "proxy_proto_options"), t.proxy_proto_options);
    if (proxy) p.proxyProtoOptions = proxy;
    out.push(p);
  }
  return out;
}

type Scaling = Pick<Service, "autoStopMachines" | "autoStartMachines" | "minMachinesRunning">;

function readScaling(r: Reader, path: string, t: Table): Scaling {
  const out: Scaling = {};
  const stop = readAutoStop(r, joinPath(path, "auto_stop_machines"), t.auto_stop_machines);
  if (stop !== undefined) out.autoStopMachines = stop;
  const start = r.bool(joinPath(path, "auto_start_machines"), t.auto_start_machines);
  if (start !== undefined) out.autoStartMachines = start;
  const min = r.integer(joinPath(path, "min_machines_running"), t.min_machines_running, { min: 0 });
  if (min !== undefined) out.minMachinesRunning = min;
  if (out.autoStopMachines !== undefined && out.autoStopMachines !== "off" && out.autoStartMachines === false) {
    r.warn(
      joinPath(path, "auto_start_machines"),
      "false with auto_stop_machines on means stopped machines never come back; set it to true",
    );
  }
  return out;
}

export function readHttpService(r: Reader, value: unknown): HttpService | undefined {
  const path = "http_service";
  const t = r.table(
    path,
    value,
    [
      "internal_port",
      "force_https",
      "auto_stop_machines",
      "auto_start_machines",
      "min_machines_running",
      "concurrency",
      "checks",
      "processes",
      "tls_options",
      "http_options",
    ],
    {
      machine_checks: MACHINE_CHECKS_NOTE,
    },
  );
  if (!t) return undefined;
  const internalPort = r.required(
    joinPath(path, "internal_port"),
    r.intLike(joinPath(path, "internal_port"), t.internal_port, { min: 1, max: 65535 }),
    t.internal_port,
    "the port the app listens on",
  );
  const out: HttpService = {
    internalPort: internalPort ?? 0,
    forceHttps: r.bool(joinPath(path, "force_https"), t.force_https) ?? false,
    processes: readProcesses(r, joinPath(path, "processes"), t.processes),
    checks: [],
    ...readScaling(r, path, t),
  };
  const concurrency = readConcurrency(r, joinPath(path, "concurrency"), t.concurrency);
  if (concurrency) out.concurrency = concurrency;
  const tls = readOptions(r, joinPath(path, "tls_options"), t.tls_options);
  if (tls) out.tlsOptions = tls;
  const http = readOptions(r, joinPath(path, "http_options"), t.http_options);
  if (http) out.httpOptions = http;
  out.checks = readServiceChecks(r, joinPath(path, "checks"), t.checks, "http").map(({ type: _type, ...c }) => c);
  return out;
}

/** `[[services]]`; an entry without any key is dropped, as flyctl does (`patchServices`). */
export function readServices(r: Reader, value: unknown): Service[] {
  const out: Service[] = [];
  for (const entry of r.tables("services", value)) {
    if (isTable(entry.value) && Object.keys(entry.value).length === 0) continue;
    const t = r.table(
      entry.path,
      entry.value,
      [
        "protocol",
        "internal_port",
        "auto_stop_machines",
        "auto_start_machines",
        "min_machines_running",
        "ports",
        "concurrency",
        "tcp_checks",
        "http_checks",
        "processes",
      ],
      {
        machine_checks: MACHINE_CHECKS_NOTE,
        script_checks: "Apps V1 script checks; Fly Machines do not run them",
      },
    );
    if (!t) continue;
    const s: Service = {
      processes: readProcesses(r, joinPath(entry.path, "processes"), t.processes),
      ports: [],
      checks: [],
      ...readScaling(r, entry.path, t),
    };
    const protocol = r.oneOf(joinPath(entry.path, "protocol"), t.protocol, ["tcp", "udp"] as const);
    if (protocol) s.protocol = protocol;
    const internalPort = r.intLike(joinPath(entry.path, "internal_port"), t.internal_port, { min: 1, max: 65535 });
    if (internalPort !== undefined) s.internalPort = internalPort;
    s.ports = readPorts(r, joinPath(entry.path, "ports"), t.ports);
    // flyctl validation.go: a service without ports only warns (it used to be refused).
    if (s.ports.length === 0)
      r.warn(entry.path, "exposes no ports: add a [[services.ports]] section, or the proxy never routes to it");
    const concurrency = readConcurrency(r, joinPath(entry.path, "concurrency"), t.concurrency);
    if (concurrency) s.concurrency = concurrency;
    s.checks = [
      ...readServiceChecks(r, joinPath(entry.path, "tcp_checks"), t.tcp_checks, "tcp"),
      ...readServiceChecks(r, joinPath(entry.path, "http_checks"), t.http_checks, "http"),
    ];
    out.push(s);
  }
  return out;
}

/** `[checks.<name>]`, or the old array form with a `name` key (flyctl `patchTopLevelChecks`). */
export function readTopLevelChecks(r: Reader, value: unknown): Record<string, TopLevelCheck & { processes: string[] }> {
  const out: Record<string, TopLevelCheck & { processes: string[] }> = {};
  if (value === undefined) return out;
  const entries: { name: string; path: string; value: unknown }[] = [];
  if (Array.isArray(value)) {
    value.forEach((item, i) => {
      if (isTable(item) && typeof item.name === "string")
        entries.push({ name: item.name, path: joinPath("checks", item.name), value: item });
      else r.problem(joinPath("checks", i), "a check in a list needs a name");
    });
  } else if (isTable(value)) {
    for (const [name, v] of Object.entries(value)) entries.push({ name, path: joinPath("checks", name), value: v });
  } else {
    r.problem("checks", "expected a table of named checks");
    return out;
  }
  for (const { name, path, value: v } of entries) {
    const t = r.table(
      path,
      v,
      [...CHECK_KEYS, "type", "port", "processes", ...(Array.isArray(value) ? ["name"] : [])],
      {
        kind: "the check kind (informational/readiness) is left to the Machines API default",
      },
    );
    if (!t) continue;
    const type = r.required(
      joinPath(path, "type"),
      r.oneOf(joinPath(path, "type"), t.type, ["http", "tcp"] as const),
      t.type,
      '"http" or "tcp"',
    );
    const port = r.intLike(joinPath(path, "port"), t.port, { min: 1, max: 65535 });
    const fields = readCheckFields(r, path, t);
    // flyctl validation.go: flaps refuses intervals under 2 s and timeouts over 60 s for top-level checks.
    if (fields.intervalMs !== undefined && fields.intervalMs < 2000)
      r.problem(joinPath(path, "interval"), "must be at least 2s (the Machines API minimum)");
    if (fields.timeoutMs !== undefined && fields.timeoutMs > 60_000)
      r.problem(joinPath(path, "timeout"), "must be at most 60s (the Machines API maximum)");
    if (!type) continue;
    const c: TopLevelCheck & { processes: string[] } = {
      type,
      ...fields,
      processes: readProcesses(r, joinPath(path, "processes"), t.processes),
    };
    if (c.method) c.method = c.method.toUpperCase(); // flyctl upper-cases top-level check methods only
    if (port !== undefined) c.port = port;
    out[name] = c;
  }
  return out;
}
