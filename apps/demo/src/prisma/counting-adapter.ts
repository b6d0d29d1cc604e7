/**
 * Wraps a Prisma driver adapter factory so that every statement it sends to the database is
 * counted: the dashboard's "queries executed by the database". Counting at the driver, below
 * the cache extension, is what proves a cache hit never reached the database.
 */
type AnyFunction = (...args: unknown[]) => unknown

const STATEMENTS = new Set(['queryRaw', 'executeRaw', 'executeScript'])

export function countingAdapter<F extends object>(factory: F, onStatement: () => void): F {
  return wrap(factory, (target, prop) => {
    if (prop === 'connect' || prop === 'connectToShadowDb') {
      return async (...args: unknown[]) => connection(await call(target, prop, args), onStatement)
    }
    return undefined
  })
}

function connection(adapter: unknown, onStatement: () => void): unknown {
  return wrap(adapter as object, (target, prop) => {
    if (STATEMENTS.has(prop as string)) return counted(target, prop, onStatement)
    if (prop === 'startTransaction') {
      return async (...args: unknown[]) => transaction(await call(target, prop, args), onStatement)
    }
    return undefined
  })
}

function transaction(tx: unknown, onStatement: () => void): unknown {
  return wrap(tx as object, (target, prop) =>
    STATEMENTS.has(prop as string) ? counted(target, prop, onStatement) : undefined,
  )
}

function counted(target: object, prop: PropertyKey, onStatement: () => void): AnyFunction {
  return (...args: unknown[]) => {
    onStatement()
    return call(target, prop, args)
  }
}

function call(target: object, prop: PropertyKey, args: unknown[]): unknown {
  return (Reflect.get(target, prop) as AnyFunction).apply(target, args)
}

/**
 * A proxy that answers `override(target, prop)` when it returns something, and otherwise the
 * target's own member (methods bound to the target, so private fields keep working).
 */
function wrap<T extends object>(target: T, override: (target: T, prop: PropertyKey) => unknown): T {
  return new Proxy(target, {
    get(object, prop) {
      const replaced = override(object, prop)
      if (replaced !== undefined) return replaced
      const value = Reflect.get(object, prop)
      return typeof value === 'function' ? (value as AnyFunction).bind(object) : value
    },
  })
}
