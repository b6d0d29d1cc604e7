import { buildKey, type KeyEncoder } from '@ormcache/core/adapter'

/**
 * Prisma's null sentinels (DbNull, JsonNull, AnyNull) are instances without own fields; they key
 * by their Prisma name, so `{ equals: Prisma.DbNull }` and `{ equals: Prisma.JsonNull }` differ.
 * Recognised by shape rather than by class, so any copy of the Prisma runtime qualifies.
 */
const prismaSentinel: KeyEncoder = (value) => {
  const candidate = value as { _getNamespace?: unknown; _getName?: unknown }
  if (typeof candidate._getName !== 'function' || typeof candidate._getNamespace !== 'function') {
    return undefined
  }
  try {
    return `prisma:${String((candidate._getNamespace as () => unknown).call(value))}.${String(
      (candidate._getName as () => unknown).call(value),
    )}`
  } catch {
    return undefined
  }
}

const ENCODERS: readonly KeyEncoder[] = [prismaSentinel]

export interface KeyParts {
  model: string
  /** findUnique and findUniqueOrThrow (findFirst…) share entries: same rows, same shape. */
  operation: string
  args: unknown
  /** Fluent API path (`findUnique(…).posts()`): the result is that relation, not the row. */
  dataPath: readonly string[]
  /** Client settings that change results (global omit) and the user's `context`. */
  context: unknown
}

export function queryKey(parts: KeyParts): string {
  const body = buildKey([parts.model, parts.operation, parts.args, parts.dataPath, parts.context], {
    encoders: ENCODERS,
  })
  return `prisma:${parts.model}.${parts.operation}:${body}`
}

export function rawQueryKey(sql: string, values: readonly unknown[], context: unknown): string {
  return `prisma:$queryRaw:${buildKey([sql, values, context], { encoders: ENCODERS })}`
}

const SHARED_OPERATION: Record<string, string> = {
  findUniqueOrThrow: 'findUnique',
  findFirstOrThrow: 'findFirst',
}

export function keyOperation(operation: string): string {
  return SHARED_OPERATION[operation] ?? operation
}
