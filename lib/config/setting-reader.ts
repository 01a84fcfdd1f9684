/**
 * Reads one setting at a time from an environment, recording a problem (setting, what is wrong, the fix) instead
 * of throwing, so lib/config.ts reports every problem of a boot together. Values of secret settings are never
 * quoted back.
 * @module
 */
import type { ConfigProblem } from "../config.ts";

export type Env = Record<string, string | undefined>;

/** Reads one setting at a time, recording problems instead of throwing so all are reported together. */
export class SettingReader {
  constructor(
    private readonly env: Env,
    private readonly problems: ConfigProblem[],
    private readonly secretSettings: ReadonlySet<string>,
  ) {}

  string(name: string, fallback: string): string {
    return this.env[name] ?? fallback;
  }

  integer(name: string, fallback: number, range: { min: number; max: number }): number {
    const raw = this.env[name];
    if (raw === undefined || raw === "") return fallback;
    const value = Number(raw);
    if (!/^-?\d+$/.test(raw.trim()) || !Number.isSafeInteger(value) || value < range.min || value > range.max) {
      this.problems.push({
        setting: name,
        problem: `must be an integer from ${range.min} to ${range.max}, got ${this.shown(name, raw)}`,
        fix: `set ${name} to a whole number in that range, or unset it for the default (${fallback})`,
      });
      return fallback;
    }
    return value;
  }

  /** A number from 0 to 1 (a sample rate). */
  ratio(name: string, fallback: number): number {
    const raw = this.env[name]?.trim();
    if (raw === undefined || raw === "") return fallback;
    const value = Number(raw);
    if (!/^\d*\.?\d+$/.test(raw) || !(value >= 0 && value <= 1)) {
      this.problems.push({
        setting: name,
        problem: `must be a number from 0 to 1, got ${this.shown(name, raw)}`,
        fix: `set ${name} to e.g. 0.1 (a tenth), or unset it for the default (${fallback})`,
      });
      return fallback;
    }
    return value;
  }

  boolean(name: string, fallback: boolean): boolean {
    const raw = this.env[name]?.trim().toLowerCase();
    if (raw === undefined || raw === "") return fallback;
    if (["1", "true", "yes", "on"].includes(raw)) return true;
    if (["0", "false", "no", "off"].includes(raw)) return false;
    this.problems.push({
      setting: name,
      problem: `must be a boolean, got ${this.shown(name, raw)}`,
      fix: `set ${name} to true or false`,
    });
    return fallback;
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
    const raw = this.env[name];
    if (raw === undefined || raw === "") return fallback;
    if ((allowed as readonly string[]).includes(raw)) return raw as T;
    this.problems.push({
      setting: name,
      problem: `must be one of ${allowed.join(", ")}, got ${this.shown(name, raw)}`,
      fix: `set ${name} to one of: ${allowed.join(", ")}`,
    });
    return fallback;
  }

  private shown(name: string, raw: string): string {
    return this.secretSettings.has(name) ? "a hidden value" : JSON.stringify(raw.slice(0, 40));
  }
}
