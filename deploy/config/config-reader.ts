// A reader for parsed TOML: every problem and warning is collected with its full key path, so one run
// of `deploy` reports everything about fly.toml at once (Kamal stops at the first; we don't).
// Unknown keys are warnings, as in flyctl (which ignores them; `fly config validate --strict` lists them);
// `--strict` turns every warning into a problem.

import { parseGoDuration } from "./durations.ts";

export type ConfigProblem = { path: string; message: string };

export type Table = Record<string, unknown>;

/** Keys flyctl understands that Flightdeck accepts without acting on, with what they mean today. */
export type Noted = Record<string, string>;

export function joinPath(base: string, key: string | number): string {
  if (typeof key === "number") return `${base}[${key}]`;
  const safe = /^[A-Za-z0-9_-]+$/.test(key) ? key : JSON.stringify(key);
  return base === "" ? safe : `${base}.${safe}`;
}

export function describe(value: unknown): string {
  if (Array.isArray(value)) return "an array";
  if (value === null) return "null";
  if (typeof value === "object") return "a table";
  if (typeof value === "number") return Number.isInteger(value) ? "an integer" : "a float";
  return `a ${typeof value}`;
}

export function isTable(value: unknown): value is Table {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

function levenshtein(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      cur[j] = Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost);
    }
    prev = cur;
  }
  return prev[b.length] ?? 0;
}

/** Near matches for a misspelt key: small edit distance, a shared prefix, or the same letters minus `_`/`-`. */
export function suggest(key: string, candidates: readonly string[]): string[] {
  const k = key.toLowerCase();
  const squash = (s: string) => s.toLowerCase().replace(/[_-]/g, "");
  const scored: { cand: string; score: number }[] = [];
  for (const cand of candidates) {
    const c = cand.toLowerCase();
    const dist = levenshtein(k, c);
    let score = Number.POSITIVE_INFINITY;
    if (squash(k) === squash(c)) score = 0;
    else if (dist <= Math.max(2, Math.floor(k.length / 3))) score = dist;
    else if (k.length >= 4 && (c.startsWith(k) || k.startsWith(c) || c.includes(k))) score = 3 + dist / 100;
    if (Number.isFinite(score)) scored.push({ cand, score });
  }
  scored.sort((a, b) => a.score - b.score);
  // A clearly closer match stands alone: "release_comand" suggests release_command, not also release_command_vm.
  const best = scored[0]?.score ?? 0;
  return scored
    .filter((s) => s.score <= best + 1)
    .slice(0, 2)
    .map((s) => s.cand);
}

export class Reader {
  readonly problems: ConfigProblem[] = [];
  readonly warnings: ConfigProblem[] = [];

  problem(path: string, message: string): void {
    this.problems.push({ path, message });
  }

  warn(path: string, message: string): void {
    this.warnings.push({ path, message });
  }

  /**
   * Checks a table's keys; returns it (or undefined after reporting when it is not a table). Unknown keys
   * warn with a near-match hint; `noted` keys are accepted with a note of what they do (or not) here.
   */
  table(path: string, value: unknown, known: readonly string[], noted: Noted = {}): Table | undefined {
    if (!isTable(value)) {
      this.problem(path, `expected a table, got ${describe(value)}`);
      return undefined;
    }
    for (const key of Object.keys(value)) {
      if (known.includes(key)) continue;
      const keyPath = joinPath(path, key);
      const note = noted[key];
      if (note !== undefined) {
        this.warn(keyPath, `accepted, not used by Flightdeck: ${note}`);
        continue;
      }
      const near = suggest(key, [...known, ...Object.keys(noted)]);
      const hint = near.length > 0 ? `; did you mean ${near.map((n) => `"${n}"`).join(" or ")}?` : "";
      this.warn(keyPath, `unknown key, ignored${hint}`);
    }
    return value;
  }

  /** A section that flyctl accepts either as `[x]` or `[[x]]`; returns the entries as a list. */
  tables(path: string, value: unknown): { path: string; value: unknown }[] {
    if (value === undefined) return [];
    if (Array.isArray(value)) return value.map((v, i) => ({ path: joinPath(path, i), value: v }));
    return [{ path, value }];
  }

  string(path: string, value: unknown, opts: { pattern?: RegExp; rule?: string } = {}): string | undefined {
    if (value === undefined) return undefined;
    if (typeof value !== "string") {
      this.problem(path, `expected a string, got ${describe(value)}`);
      return undefined;
    }
    if (opts.pattern && !opts.pattern.test(value)) {
      this.problem(path, `${JSON.stringify(value)} is not valid: ${opts.rule ?? `must match ${opts.pattern}`}`);
      return undefined;
    }
    return value;
  }

  required<T>(path: string, value: T | undefined, raw: unknown, what: string): T | undefined {
    if (raw === undefined) this.problem(path, `required: ${what}`);
    return value;
  }

  oneOf<T extends string>(path: string, value: unknown, allowed: readonly T[]): T | undefined {
    const s = this.string(path, value);
    if (s === undefined) return undefined;
    if (!(allowed as readonly string[]).includes(s)) {
      const near = suggest(s, allowed);
      const hint = near.length > 0 ? `; did you mean "${near[0]}"?` : "";
      this.problem(path, `${JSON.stringify(s)} is not one of ${allowed.map((a) => `"${a}"`).join(", ")}${hint}`);
      return undefined;
    }
    return s as T;
  }

  bool(path: string, value: unknown): boolean | undefined {
    if (value === undefined) return undefined;
    if (typeof value !== "boolean") {
      this.problem(path, `expected true or false, got ${describe(value)}`);
      return undefined;
    }
    return value;
  }

  integer(path: string, value: unknown, opts: { min?: number; max?: number } = {}): number | undefined {
    if (value === undefined) return undefined;
    if (typeof value !== "number" || !Number.isInteger(value)) {
      this.problem(path, `expected an integer, got ${describe(value)}`);
      return undefined;
    }
    if (opts.min !== undefined && value < opts.min) {
      this.problem(path, `${value} is too small (minimum ${opts.min})`);
      return undefined;
    }
    if (opts.max !== undefined && value > opts.max) {
      this.problem(path, `${value} is too large (maximum ${opts.max})`);
      return undefined;
    }
    return value;
  }

  number(path: string, value: unknown, opts: { min?: number } = {}): number | undefined {
    if (value === undefined) return undefined;
    if (typeof value !== "number" || !Number.isFinite(value)) {
      this.problem(path, `expected a number, got ${describe(value)}`);
      return undefined;
    }
    if (opts.min !== undefined && value < opts.min) {
      this.problem(path, `${value} is too small (minimum ${opts.min})`);
      return undefined;
    }
    return value;
  }

  /**
   * A flyctl duration in milliseconds. Strings are Go durations; a bare integer is in `integerUnit`
   * (flyctl: seconds for kill_timeout, milliseconds for check interval/timeout/grace_period), or refused
   * when `integerUnit` is null (fly-go would read it as nanoseconds, which is never what anyone meant).
   */
  duration(path: string, value: unknown, integerUnit: "s" | "ms" | null): number | undefined {
    if (value === undefined) return undefined;
    if (typeof value === "number") {
      if (integerUnit === null) {
        this.problem(
          path,
          `give a duration string such as "5m" (flyctl would read the number ${value} as nanoseconds)`,
        );
        return undefined;
      }
      if (!Number.isInteger(value) || value < 0) {
        this.problem(path, `expected a non-negative integer or a duration string such as "10s", got ${value}`);
        return undefined;
      }
      return integerUnit === "s" ? value * 1000 : value;
    }
    if (typeof value !== "string") {
      this.problem(path, `expected a duration such as "10s", got ${describe(value)}`);
      return undefined;
    }
    if (value === "") return undefined; // flyctl `_castDuration`: an empty string means unset
    const ms = parseGoDuration(value);
    if (ms === null) {
      this.problem(path, `${JSON.stringify(value)} is not a duration; use Go syntax such as "10s", "1m30s" or "500ms"`);
      return undefined;
    }
    return ms;
  }

  stringArray(path: string, value: unknown): string[] | undefined {
    if (value === undefined) return undefined;
    if (!Array.isArray(value) || value.some((v) => typeof v !== "string")) {
      this.problem(path, `expected an array of strings, got ${describe(value)}`);
      return undefined;
    }
    return value as string[];
  }

  /** flyctl `castToInt`: ports and internal_port may be written as numeric strings ("8080"). */
  intLike(path: string, value: unknown, opts: { min?: number; max?: number } = {}): number | undefined {
    if (typeof value === "string" && /^-?\d+$/.test(value.trim()))
      return this.integer(path, Number(value.trim()), opts);
    return this.integer(path, value, opts);
  }

  /** flyctl `stringOrSliceToSlice`: a string is a one-word list (not shell-split), an array must hold strings. */
  stringOrList(path: string, value: unknown): string[] | undefined {
    if (value === undefined) return undefined;
    if (typeof value === "string") return [value];
    return this.stringArray(path, value);
  }
}
