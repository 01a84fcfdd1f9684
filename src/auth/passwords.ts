/**
 * Password hashing with argon2id through Bun.password. Parameters are one of the OWASP Password Storage
 * Cheat Sheet's equivalent argon2id configurations (m = 7 MiB, t = 5, p = 1): the same resistance to offline
 * guessing as its m = 19 MiB, t = 2 option, trading memory for passes, because every concurrent login holds
 * m of memory and the service must fit a 256 MB preview machine (peak RSS measured by `bun run bench:api`).
 * Hashes carry their own parameters, so verifying older hashes keeps working if these change.
 * @module
 */

const ARGON2 = { algorithm: "argon2id", memoryCost: 7_168, timeCost: 5 } as const;

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
