/**
 * What leaves the process in an error event is scrubbed here, once, over the whole event: every string is
 * cleared of the configured secret values (SECRET_KEY, DATABASE_URL and its password, METRICS_TOKEN), of
 * anything shaped like a bearer token or a JWT, of credentials in URLs, and of drizzle's "params:" list
 * (query parameters are user data: emails, password hashes, tokens); fields whose name says secret are dropped.
 * The event is built without headers or bodies in the first place (see event.ts); this is the second line.
 * @module
 */

const SECRET_NAME = /token|secret|password|passwd|authorization|cookie|api[-_]?key|database_url|dsn/i;
const BEARER = /\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+/gi;
const JWT = /\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g;
const URL_CREDENTIALS = /([a-z][a-z0-9+.-]*:\/\/)[^/@\s:]+(:[^@\s/]*)?@/gi;
const QUERY_PARAMS = /\nparams:[\s\S]*$/;
export const SCRUBBED = "[scrubbed]";

export function createScrubber(secretValues: Array<string | undefined>): (value: unknown) => unknown {
  // Longest first, so a URL is replaced whole before the password inside it; short values would erase words.
  const secrets = [...new Set(secretValues.filter((v): v is string => typeof v === "string" && v.length >= 6))].sort(
    (a, b) => b.length - a.length,
  );
  const scrubString = (text: string): string => {
    let out = text;
    for (const secret of secrets) if (out.includes(secret)) out = out.split(secret).join(SCRUBBED);
    return out
      .replace(QUERY_PARAMS, `\nparams: ${SCRUBBED}`)
      .replace(URL_CREDENTIALS, `$1${SCRUBBED}@`)
      .replace(BEARER, `$1 ${SCRUBBED}`)
      .replace(JWT, SCRUBBED);
  };
  const scrub = (value: unknown, depth: number): unknown => {
    if (typeof value === "string") return scrubString(value);
    if (value === null || typeof value !== "object" || depth > 12) return value;
    if (Array.isArray(value)) return value.map((item) => scrub(item, depth + 1));
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      if (SECRET_NAME.test(key)) continue;
      out[key] = scrub(item, depth + 1);
    }
    return out;
  };
  return (value) => scrub(value, 0);
}

/** The secret values of a URL worth scrubbing on their own: the whole URL and its password. */
export function urlSecrets(url: string | undefined): string[] {
  if (!url) return [];
  try {
    const parsed = new URL(url);
    return [url, decodeURIComponent(parsed.password), parsed.password].filter((v) => v !== "");
  } catch {
    return [url];
  }
}
