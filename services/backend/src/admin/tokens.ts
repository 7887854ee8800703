import { createHash, randomBytes } from 'node:crypto';
import { and, eq, isNull, sql } from 'drizzle-orm';
import type { AppDatabase } from '../db/index.ts';
import { adminTokens } from '../db/schema/index.ts';

/**
 * Admin API tokens: 256 random bits, shown once, stored only as a SHA-256 hash (a fast hash is
 * enough for a random secret of this size). Issuing one revokes the others.
 */
export async function issueAdminToken(db: AppDatabase): Promise<string> {
  const token = `gwa_${randomBytes(32).toString('base64url')}`;
  await db.transaction(async (tx) => {
    await tx.update(adminTokens).set({ revokedAt: sql`now()` }).where(isNull(adminTokens.revokedAt));
    await tx.insert(adminTokens).values({ tokenHash: hashToken(token) });
  });
  return token;
}

export async function isActiveAdminToken(db: AppDatabase, token: string): Promise<boolean> {
  const [row] = await db
    .select({ id: adminTokens.id })
    .from(adminTokens)
    .where(and(eq(adminTokens.tokenHash, hashToken(token)), isNull(adminTokens.revokedAt)));
  return row !== undefined;
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}
