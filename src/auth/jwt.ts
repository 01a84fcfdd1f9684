/**
 * HS256 JSON Web Tokens (RFC 7519) signed with SECRET_KEY. Deliberately tiny: one algorithm, fixed in code,
 * so a token's own header can never choose how it is checked (the `alg: none` / algorithm-confusion class of
 * bugs, RFC 8725 section 2.1). Verification is constant-time on the signature.
 * @module
 */
import { timingSafeEqual } from "node:crypto";

export interface Claims {
  sub: string;
  iat: number;
  exp: number;
  jti: string;
  /** The session (sessions row) this token belongs to; the authenticated read checks it is live. */
  sid?: string;
}

export type VerifyFailure = "malformed" | "unsupported_algorithm" | "bad_signature" | "expired" | "invalid_claims";
export type VerifyResult = { ok: true; claims: Claims } | { ok: false; reason: VerifyFailure };

const MAX_TOKEN_LENGTH = 2048;
const HEADER = encodeJson({ alg: "HS256", typ: "JWT" });

/** `now` is in seconds since the epoch; lifetime in seconds. */
export function signToken(
  subject: string,
  key: string,
  now: number,
  lifetimeSeconds: number,
  sessionId?: string,
): { token: string; claims: Claims } {
  const claims: Claims = { sub: subject, iat: now, exp: now + lifetimeSeconds, jti: crypto.randomUUID() };
  if (sessionId !== undefined) claims.sid = sessionId;
  const signingInput = `${HEADER}.${encodeJson(claims)}`;
  return { token: `${signingInput}.${hmac(key, signingInput).toString("base64url")}`, claims };
}

export function verifyToken(token: string, key: string, now: number): VerifyResult {
  if (token.length > MAX_TOKEN_LENGTH) return { ok: false, reason: "malformed" };
  const parts = token.split(".");
  if (parts.length !== 3) return { ok: false, reason: "malformed" };
  const [headerPart, payloadPart, signaturePart] = parts as [string, string, string];

  // Every token this service issues carries exactly HEADER; anything else is parsed to say why it is refused.
  if (headerPart !== HEADER) {
    const header = decodeJson(headerPart);
    if (!header || typeof header !== "object") return { ok: false, reason: "malformed" };
    // Only the algorithm we sign with is accepted; "none", HS512, RS256 ... are all refused.
    if ((header as { alg?: unknown }).alg !== "HS256") return { ok: false, reason: "unsupported_algorithm" };
  }

  const expected = hmac(key, `${headerPart}.${payloadPart}`);
  const given = Buffer.from(signaturePart, "base64url");
  if (given.length !== expected.length || !timingSafeEqual(given, expected))
    return { ok: false, reason: "bad_signature" };

  const claims = decodeJson(payloadPart) as Partial<Claims> | undefined;
  if (
    !claims ||
    typeof claims !== "object" ||
    typeof claims.sub !== "string" ||
    typeof claims.exp !== "number" ||
    typeof claims.iat !== "number" ||
    typeof claims.jti !== "string" ||
    (claims.sid !== undefined && typeof claims.sid !== "string")
  ) {
    return { ok: false, reason: "invalid_claims" };
  }
  if (claims.exp <= now) return { ok: false, reason: "expired" };
  return { ok: true, claims: claims as Claims };
}

function hmac(key: string, input: string): Buffer {
  const hasher = new Bun.CryptoHasher("sha256", key);
  hasher.update(input);
  return hasher.digest();
}

function encodeJson(value: unknown): string {
  return Buffer.from(JSON.stringify(value), "utf8").toString("base64url");
}

function decodeJson(part: string): unknown {
  if (!/^[A-Za-z0-9_-]*$/.test(part)) return undefined;
  try {
    return JSON.parse(Buffer.from(part, "base64url").toString("utf8"));
  } catch {
    return undefined;
  }
}
