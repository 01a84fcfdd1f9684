// Fault injection for the fake Fly API. Per-call faults are counted ("the next N calls matching X"), the way
// ky's tests script "500 twice, then 200"; machine faults are predicates over machines, checked when the
// machine boots or runs.

import type { FakeMachine } from "./state.ts";

export interface CallMatch {
  method?: string;
  /** Substring of, or pattern for, the URL path (e.g. "/machines", /\/lease$/). */
  path?: string | RegExp;
}

/** A machine id, or a predicate over the machine (its config, name, metadata...). */
export type MachineMatch = string | ((machine: FakeMachine) => boolean);

export type CallFault =
  | { kind: "rate_limit"; remaining: number; match: CallMatch; retryAfterSeconds: number | null }
  | { kind: "server_error"; remaining: number; match: CallMatch; status: number }
  | { kind: "drop"; remaining: number; match: CallMatch; afterHandling: boolean };

export interface LeaseHold {
  appName: string;
  machineId: string;
  owner: string;
  ttlSeconds: number;
  description: string;
}

export class FakeFaults {
  /** Added to every call (ms), before it is handled. */
  latencyMs = 0;
  readonly callFaults: CallFault[] = [];
  readonly latencyRules: { ms: number; match: CallMatch }[] = [];
  readonly neverStartRules: MachineMatch[] = [];
  readonly failStartRules: MachineMatch[] = [];
  readonly checksNeverPassRules: MachineMatch[] = [];
  readonly exitCodeRules: { code: number; match: MachineMatch }[] = [];
  readonly survivesExitRules: MachineMatch[] = [];
  readonly lingeringDeletes: { app: string | undefined; reads: number }[] = [];
  /** Applied by the server (it owns machines); see FakeFly.faults.holdLease. */
  onHoldLease?: (hold: LeaseHold) => void;

  /** Adds latency to every call matching `match` (all calls when omitted). */
  latency(ms: number, match: CallMatch = {}): this {
    this.latencyRules.push({ ms, match });
    return this;
  }

  /** The next `count` matching calls get 429, with `Retry-After: <seconds>` unless `retryAfterSeconds` is null. */
  rateLimit(count: number, opts: { retryAfterSeconds?: number | null; match?: CallMatch } = {}): this {
    this.callFaults.push({
      kind: "rate_limit",
      remaining: count,
      match: opts.match ?? {},
      retryAfterSeconds: opts.retryAfterSeconds === undefined ? 1 : opts.retryAfterSeconds,
    });
    return this;
  }

  /** The next `count` matching calls fail with `status` (default 500) before doing anything. */
  serverError(count: number, opts: { status?: number; match?: CallMatch } = {}): this {
    this.callFaults.push({
      kind: "server_error",
      remaining: count,
      match: opts.match ?? {},
      status: opts.status ?? 500,
    });
    return this;
  }

  /**
   * The next `count` matching calls have their connection closed without any response. With `afterHandling`
   * the call is carried out first (the ambiguous case: the change happened, the client never heard).
   */
  dropConnection(count: number, opts: { match?: CallMatch; afterHandling?: boolean } = {}): this {
    this.callFaults.push({
      kind: "drop",
      remaining: count,
      match: opts.match ?? {},
      afterHandling: opts.afterHandling ?? false,
    });
    return this;
  }

  /**
   * The next `count` machine creates are carried out, then their connection is closed before the answer: the
   * machine exists and the client never heard (flyctl: an error after a create was sent is ambiguous).
   */
  loseCreateAnswer(count = 1): this {
    return this.dropConnection(count, {
      match: { method: "POST", path: /^\/v1\/apps\/[^/]+\/machines$/ },
      afterHandling: true,
    });
  }

  /** Matching machines stay in `starting` forever. */
  neverStart(match: MachineMatch): this {
    this.neverStartRules.push(match);
    return this;
  }

  /** Matching machines go to `failed` instead of `started`. */
  failStart(match: MachineMatch): this {
    this.failStartRules.push(match);
    return this;
  }

  /** Matching machines' health checks stay `critical`. */
  checksNeverPass(match: MachineMatch): this {
    this.checksNeverPassRules.push(match);
    return this;
  }

  /** Exit code for machines whose main process exits on its own (auto_destroy, e.g. release commands). */
  exitCode(code: number, match: MachineMatch = () => true): this {
    this.exitCodeRules.push({ code, match });
    return this;
  }

  /**
   * Matching auto_destroy machines stay `stopped` after their process exits instead of being destroyed (how a
   * client must not rely on `destroyed` to learn that a release command ended).
   */
  surviveExit(match: MachineMatch): this {
    this.survivesExitRules.push(match);
    return this;
  }

  /**
   * Fly deletes an app asynchronously: DELETE answers 202 and the app stays readable for a while. After a
   * delete of `app` (any app when omitted) is accepted, GET app keeps answering 200 for the next `reads` reads
   * (default: forever, the app never goes) and 404 from then on. Counted in reads, not time, so a test of
   * "disappears later" does not depend on timing. The machines are destroyed at once, as without the fault.
   */
  lingerAfterDelete(opts: { app?: string; reads?: number } = {}): this {
    this.lingeringDeletes.push({ app: opts.app, reads: opts.reads ?? Infinity });
    return this;
  }

  /** Someone else takes the machine's lease (as another flyctl would). */
  holdLease(
    appName: string,
    machineId: string,
    opts: { owner?: string; ttlSeconds?: number; description?: string } = {},
  ): this {
    this.onHoldLease?.({
      appName,
      machineId,
      owner: opts.owner ?? "someone-else@example.com",
      ttlSeconds: opts.ttlSeconds ?? 3600,
      description: opts.description ?? "held by another deploy",
    });
    return this;
  }

  /** Removes every fault (machine faults too). */
  clear(): this {
    this.latencyMs = 0;
    this.callFaults.length = 0;
    this.latencyRules.length = 0;
    this.neverStartRules.length = 0;
    this.failStartRules.length = 0;
    this.checksNeverPassRules.length = 0;
    this.exitCodeRules.length = 0;
    this.survivesExitRules.length = 0;
    this.lingeringDeletes.length = 0;
    return this;
  }

  // ---- used by the server ----

  latencyFor(method: string, path: string): number {
    let total = this.latencyMs;
    for (const rule of this.latencyRules) if (matchesCall(rule.match, method, path)) total += rule.ms;
    return total;
  }

  /** Consumes and returns the first pending call fault that matches, if any. */
  takeCallFault(method: string, path: string): CallFault | undefined {
    const fault = this.callFaults.find((f) => f.remaining > 0 && matchesCall(f.match, method, path));
    if (!fault) return undefined;
    fault.remaining -= 1;
    return fault;
  }

  neverStarts(machine: FakeMachine): boolean {
    return this.neverStartRules.some((m) => matchesMachine(m, machine));
  }

  failsToStart(machine: FakeMachine): boolean {
    return this.failStartRules.some((m) => matchesMachine(m, machine));
  }

  checksFail(machine: FakeMachine): boolean {
    return this.checksNeverPassRules.some((m) => matchesMachine(m, machine));
  }

  survivesExit(machine: FakeMachine): boolean {
    return this.survivesExitRules.some((m) => matchesMachine(m, machine));
  }

  /** How many more reads a just-deleted app answers (0: it is gone at once). The newest matching rule wins. */
  readsAfterDelete(appName: string): number {
    for (let i = this.lingeringDeletes.length - 1; i >= 0; i--) {
      const rule = this.lingeringDeletes[i]!;
      if (rule.app === undefined || rule.app === appName) return rule.reads;
    }
    return 0;
  }

  exitCodeFor(machine: FakeMachine): number {
    for (let i = this.exitCodeRules.length - 1; i >= 0; i--) {
      const rule = this.exitCodeRules[i]!;
      if (matchesMachine(rule.match, machine)) return rule.code;
    }
    return 0;
  }
}

export function matchesCall(match: CallMatch, method: string, path: string): boolean {
  if (match.method && match.method.toUpperCase() !== method) return false;
  if (match.path === undefined) return true;
  return typeof match.path === "string" ? path.includes(match.path) : match.path.test(path);
}

function matchesMachine(match: MachineMatch, machine: FakeMachine): boolean {
  return typeof match === "string" ? match === machine.id : match(machine);
}
