import bcrypt from 'bcryptjs';

/**
 * Machine passwords, as CrowdSec stores them: bcrypt at cost 10 (Go's bcrypt.DefaultCost), so a
 * hash copied from a CrowdSec database verifies here and the other way round.
 */
export const BCRYPT_COST = 10;

export function hashPassword(password: string): Promise<string> {
  return bcrypt.hash(password, BCRYPT_COST);
}

/** Constant-time in the hash (bcrypt's own comparison); false for a malformed hash, never a throw. */
export async function verifyPassword(password: string, hash: string): Promise<boolean> {
  try {
    return await bcrypt.compare(password, hash);
  } catch {
    return false;
  }
}
