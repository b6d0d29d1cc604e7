import { AsyncLocalStorage } from 'node:async_hooks'

/** Per-request accounting: the database statements a request caused (the `x-db-queries` header). */
export interface RequestTally {
  dbQueries: number
}

const storage = new AsyncLocalStorage<RequestTally>()

export function withTally<T>(tally: RequestTally, body: () => Promise<T>): Promise<T> {
  return storage.run(tally, body)
}

/**
 * Counts one statement against the current request, if any. Prisma merges concurrent
 * findUnique calls into one statement, which is then counted against the request that started
 * the batch: the header is exact for a request on its own and approximate under load (the
 * dashboard's totals are always exact).
 */
export function tallyQuery(): void {
  const tally = storage.getStore()
  if (tally !== undefined) tally.dbQueries += 1
}
