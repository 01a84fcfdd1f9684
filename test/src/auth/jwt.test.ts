import { describe, expect, test } from "bun:test";
import { createHmac } from "node:crypto";
import { signToken, verifyToken } from "../../../src/auth/jwt.ts";

const KEY = "k".repeat(40);
const NOW = 1_800_000_000;
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
/** Signs with node:crypto, independently of the code under test. */
const forge = (header: unknown, payload: unknown, key = KEY, alg = "sha256") => {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${createHmac(alg, key).update(input).digest("base64url")}`;
};
const claims = { sub: "user-1", iat: NOW, exp: NOW + 1800, jti: "j" };

describe("jwt", () => {
  test("a signed token verifies and carries sub, iat, exp (30 min) and a unique jti", () => {
    const a = signToken("user-1", KEY, NOW, 1800);
    const b = signToken("user-1", KEY, NOW, 1800);
    const verified = verifyToken(a.token, KEY, NOW + 10);
    expect(verified).toEqual({ ok: true, claims: a.claims });
    expect(a.claims).toMatchObject({ sub: "user-1", iat: NOW, exp: NOW + 1800 });
    expect(a.claims.jti).not.toBe(b.claims.jti);
    expect(JSON.parse(Buffer.from(a.token.split(".")[0]!, "base64url").toString())).toEqual({
      alg: "HS256",
      typ: "JWT",
    });
  });

  test("matches an independent HS256 implementation", () => {
    expect(verifyToken(forge({ alg: "HS256", typ: "JWT" }, claims), KEY, NOW).ok).toBe(true);
  });

  test("rejects alg none, other algorithms, a bad signature, a wrong key, tampering and expiry", () => {
    const none = `${b64({ alg: "none", typ: "JWT" })}.${b64(claims)}.`;
    expect(verifyToken(none, KEY, NOW)).toEqual({ ok: false, reason: "unsupported_algorithm" });
    expect(verifyToken(forge({ alg: "HS512" }, claims, KEY, "sha512"), KEY, NOW)).toEqual({
      ok: false,
      reason: "unsupported_algorithm",
    });
    expect(verifyToken(forge({ alg: "RS256" }, claims), KEY, NOW)).toEqual({
      ok: false,
      reason: "unsupported_algorithm",
    });
    expect(verifyToken(forge({ alg: "HS256" }, claims, "another-key-another-key-another-key"), KEY, NOW)).toEqual({
      ok: false,
      reason: "bad_signature",
    });

    const good = signToken("user-1", KEY, NOW, 1800).token;
    const [h, , s] = good.split(".");
    expect(verifyToken(`${h}.${b64({ ...claims, sub: "admin" })}.${s}`, KEY, NOW)).toEqual({
      ok: false,
      reason: "bad_signature",
    });
    expect(verifyToken(good, KEY, NOW + 1800)).toEqual({ ok: false, reason: "expired" });
    expect(verifyToken(good, KEY, NOW + 1799).ok).toBe(true);
  });

  test("rejects malformed tokens and missing claims without throwing", () => {
    for (const token of [
      "",
      "a.b",
      "a.b.c.d",
      "!!!.???.***",
      "x".repeat(5000),
      `${b64({ alg: "HS256" })}.bm90IGpzb24.`,
    ]) {
      expect(verifyToken(token, KEY, NOW).ok).toBe(false);
    }
    expect(verifyToken(forge({ alg: "HS256" }, { sub: "u" }), KEY, NOW)).toEqual({
      ok: false,
      reason: "invalid_claims",
    });
    expect(verifyToken(forge({ alg: "HS256" }, { ...claims, exp: "never" }), KEY, NOW)).toEqual({
      ok: false,
      reason: "invalid_claims",
    });
  });
});
