/**
 * Password hashing with argon2id through Bun.password. Parameters follow the OWASP Password Storage Cheat
 * Sheet minimum for argon2id (m = 19 MiB, t = 2, p = 1): enough to slow offline guessing, small enough that
 * a few concurrent logins fit a 256 MB preview machine.
 * @module
 */

const ARGON2 = { algorithm: "argon2id", memoryCost: 19_456, timeCost: 2 } as const;

export function hashPassword(password: string): Promise<string> {
  return Bun.password.hash(password, ARGON2);
}

export async function verifyPassword(password: string, hash: string): Promise<boolean> {
  try {
    return await Bun.password.verify(password, hash);
  } catch {
    return false;
  }
}

let dummyHash: Promise<string> | undefined;

/**
 * Verifies against a throwaway hash with the same parameters, so a login for an unknown email costs the same
 * as one with a wrong password and response time does not reveal which emails have accounts.
 */
export async function burnPasswordCheck(password: string): Promise<false> {
  dummyHash ??= hashPassword(crypto.randomUUID());
  await verifyPassword(password, await dummyHash);
  return false;
}
