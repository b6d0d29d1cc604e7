import type { Cache } from '../cache.js'
import { ListenerError } from '../errors.js'

const reported = new WeakMap<object, WeakSet<object>>()

/**
 * For adapters: a user's hook (`onRead`, `onWrite`) threw. The query goes on; the failure is
 * reported once per hook function, as an `error` event (code ERR_LISTENER) on the cache, like
 * the cache's own listeners (context.ts).
 */
export function reportListenerError(
  cache: Pick<Cache, 'reportError'>,
  listener: object,
  where: string,
  error: unknown,
): void {
  let seen = reported.get(cache)
  if (seen === undefined) {
    seen = new WeakSet()
    reported.set(cache, seen)
  }
  if (seen.has(listener)) return
  seen.add(listener)
  try {
    cache.reportError(new ListenerError(where, error), 'listener')
  } catch {
    // A closed cache cannot report; the query still must not fail.
  }
}
