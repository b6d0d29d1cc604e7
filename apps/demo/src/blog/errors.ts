/**
 * Database constraint violations, recognised the same way for both ORMs and both databases:
 * Prisma's P2002/P2003, SQLite's extended codes, PostgreSQL's SQLSTATE (TypeORM puts the
 * driver's error on `driverError`).
 */
export function isUniqueViolation(error: unknown): boolean {
  return codes(error).some(
    (code) => code === 'P2002' || code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE',
  )
}

export function isForeignKeyViolation(error: unknown): boolean {
  return codes(error).some(
    (code) => code === 'P2003' || code === '23503' || code === 'SQLITE_CONSTRAINT_FOREIGNKEY',
  )
}

/** Prisma's "record to update/delete not found". */
export function isRecordNotFound(error: unknown): boolean {
  return codes(error).includes('P2025')
}

function codes(error: unknown): string[] {
  const found: string[] = []
  let current: unknown = error
  for (let depth = 0; depth < 4 && typeof current === 'object' && current !== null; depth++) {
    const code = (current as { code?: unknown }).code
    if (typeof code === 'string') found.push(code)
    const next = current as { driverError?: unknown; cause?: unknown }
    current = next.driverError ?? next.cause
  }
  return found
}
