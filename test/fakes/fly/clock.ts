/**
 * Clock mode of the fake: what Fly documents about time, so a client has to live with it.
 *
 * - Rate limits (fly.io/docs/machines/api/working-with-machines-api, "Rate Limits"): per action, scoped per
 *   Machine ID or App ID, 1 req/s with bursts of 3; Get Machine 5 req/s with bursts of 10. Modelled as a
 *   GCRA (a token bucket with no timer): the first `burst` calls pass at once, then one per interval. The docs
 *   document no Retry-After, so by default a 429 carries none; `retryAfter: "seconds"` plays a server that sends
 *   one.
 * - An eventually consistent list (fly-machines-api.md §2: flyctl's preflight tests sleep because "fly m list is
 *   eventually consistent"): a machine created less than `listLagMs` ago is missing from GET /machines, and a
 *   destroyed one stays listed as `destroying` for as long.
 * - A just-created machine answers 404 on GET and /wait for `notFoundMs` (flyctl#4618).
 * - Transient states last: `creating` before `created`, `updating` before `replacing`/`stopped`.
 * - /wait refuses a timeout over 60 s with 400 (the spec: integer seconds, max 60).
 *
 * Every duration is in Fly milliseconds and multiplied by `scale` (real ms per Fly ms): a fast clock keeps the
 * suites quick while the order of events stays Fly's.
 * @module
 */

export interface ClockOptions {
  /** Real ms per Fly ms (default 1; 0.05 runs Fly's clock 20x fast). Applies to every duration below. */
  scale?: number;
  /** Enforce the documented rate limits (default true). */
  rateLimits?: boolean;
  /** What a 429 carries: nothing (default, as the docs document none) or `Retry-After: <seconds>`. */
  retryAfter?: "none" | "seconds";
  /** How long a new machine is missing from the list, and a destroyed one lingers as `destroying` (default 1000). */
  listLagMs?: number;
  /** How long a new machine answers 404 on GET and /wait (default 300). */
  notFoundMs?: number;
  /** How long a created machine reports `creating` (default 400). */
  creatingMs?: number;
  /** How long an updated machine reports `updating` before it is replaced (default 300). */
  updatingMs?: number;
}

export interface Limit {
  /** Sustained requests per second. */
  perSecond: number;
  /** Requests that may pass at once before the sustained rate applies. */
  burst: number;
}

/** The docs' numbers: every action 1/s burst 3, Get Machine 5/s burst 10. */
export const FLY_DEFAULT_LIMIT: Limit = { perSecond: 1, burst: 3 };
export const FLY_GET_MACHINE_LIMIT: Limit = { perSecond: 5, burst: 10 };

/** One rate-limited action on one identifier, as the docs scope them. */
export interface RateScope {
  /** e.g. `POST /machines` (create), `GET /machines/:id` (get machine), `POST /machines/:id/lease`. */
  action: string;
  /** Machine id for actions on a machine, else the app name (`-` for calls outside an app). */
  id: string;
  limit: Limit;
}

const MACHINE_ID = /^[0-9a-f]{14}$/;

/** Which action and identifier a call counts against (the fake's own reading of the docs' table). */
export function rateScope(method: string, path: string): RateScope {
  const parts = path.split("/").filter(Boolean);
  // /v1/apps/{app}/...
  if (parts[0] !== "v1" || parts[1] !== "apps" || parts[2] === undefined) {
    return { action: `${method} ${path}`, id: "-", limit: FLY_DEFAULT_LIMIT };
  }
  const app = parts[2];
  const rest = parts.slice(3);
  if (rest[0] === "machines" && rest[1] !== undefined && MACHINE_ID.test(rest[1])) {
    const tail = rest.slice(2).join("/");
    const action = `${method} /machines/:id${tail ? `/${tail}` : ""}`;
    const limit = method === "GET" && tail === "" ? FLY_GET_MACHINE_LIMIT : FLY_DEFAULT_LIMIT;
    return { action, id: rest[1], limit };
  }
  const generic = rest.map((segment, index) => (index > 0 && /\d/.test(segment) ? ":id" : segment)).join("/");
  return { action: `${method} /${generic}`, id: app, limit: FLY_DEFAULT_LIMIT };
}

export interface FakeClock {
  readonly scale: number;
  readonly options: Required<Omit<ClockOptions, "scale">>;
  /** Fly ms -> real ms. */
  ms(flyMs: number): number;
  /** Admits a call or says how long (real ms) until it would have been admitted. */
  admit(method: string, path: string, now?: number): { ok: true } | { ok: false; retryInMs: number };
  /** 429s answered so far. */
  readonly rejected: number;
}

export function createClock(options: ClockOptions = {}): FakeClock {
  const scale = options.scale ?? 1;
  if (!(scale > 0)) throw new Error(`fake Fly clock: scale must be > 0, got ${scale}`);
  const resolved = {
    rateLimits: options.rateLimits ?? true,
    retryAfter: options.retryAfter ?? "none",
    listLagMs: options.listLagMs ?? 1000,
    notFoundMs: options.notFoundMs ?? 300,
    creatingMs: options.creatingMs ?? 400,
    updatingMs: options.updatingMs ?? 300,
  } as const;
  // GCRA: per scope, the theoretical arrival time of the next call (real ms).
  const tat = new Map<string, number>();
  let rejected = 0;
  return {
    scale,
    options: resolved,
    ms: (flyMs) => flyMs * scale,
    get rejected() {
      return rejected;
    },
    admit(method, path, now = Date.now()) {
      if (!resolved.rateLimits) return { ok: true };
      const scope = rateScope(method, path);
      const key = `${scope.action} ${scope.id}`;
      const interval = (1000 / scope.limit.perSecond) * scale;
      const tolerance = (scope.limit.burst - 1) * interval;
      const arrival = Math.max(tat.get(key) ?? now, now);
      if (arrival - tolerance > now) {
        rejected += 1;
        return { ok: false, retryInMs: arrival - tolerance - now };
      }
      tat.set(key, arrival + interval);
      return { ok: true };
    },
  };
}

/**
 * The Retry-After a 429 carries in this clock: delta-seconds (RFC 9110 §10.2.3) of the Fly wait, scaled to real
 * time. On a fast clock that is a fraction ("0.05"), which RFC 9110 does not allow but keeps the suites fast;
 * on Fly's own clock (scale 1) it is the whole number of seconds the RFC asks for.
 */
export function retryAfterHeader(clock: FakeClock, retryInMs: number): Record<string, string> {
  if (clock.options.retryAfter === "none") return {};
  const flySeconds = Math.max(1, Math.ceil(retryInMs / clock.scale / 1000));
  const realSeconds = flySeconds * clock.scale;
  return { "retry-after": clock.scale === 1 ? String(flySeconds) : realSeconds.toFixed(3).replace(/\.?0+$/, "") };
}
