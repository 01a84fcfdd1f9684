/**
 * Refresh tokens: 256 random bits, base64url, handed to the client once; only their SHA-256 is stored, so a
 * copy of the sessions table logs nobody in (RFC 9700 section 4.14; RFC 6749 section 10.4).
 * @module
 */
import { HttpError } from "../errors.ts";

/** The one place a refresh token is made; 32 bytes = 256 bits from the platform CSPRNG. */
export function newRefreshToken(): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64url");
}

export function hashRefreshToken(token: string): string {
  return new Bun.CryptoHasher("sha256").update(token).digest("base64url");
}

export type AuthErrorCode = "token_expired" | "token_invalid" | "session_revoked" | "refresh_token_reused";

/**
 * 401 with a code a client can branch on: `token_expired` means refresh, the others mean log in again.
 * WWW-Authenticate per RFC 6750 section 3 (`invalid_token` covers every one of them there).
 */
export function authError(code: AuthErrorCode, message: string): HttpError {
  return new HttpError(401, code, message, undefined, {
    "www-authenticate": `Bearer realm="flightdeck", error="invalid_token"`,
  });
}
