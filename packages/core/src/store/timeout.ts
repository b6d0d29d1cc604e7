import { storeDeadlines } from './deadlines.js'

/**
 * Rejects with `timeoutError()` if `promise` has not settled within `ms` (0 = wait forever). The
 * operation itself may still complete later; callers treat a timeout as a failure. The deadline
 * lives on the shared timer (deadlines.ts): a timer per store call was a measurable part of a
 * cache hit's CPU.
 */
export function withTimeout<T>(promise: Promise<T>, ms: number, timeoutError: () => Error): Promise<T> {
  if (ms <= 0) return promise
  return new Promise<T>((resolve, reject) => {
    const deadline = storeDeadlines.add(ms, () => reject(timeoutError()))
    promise.then(
      (value) => {
        storeDeadlines.cancel(deadline)
        resolve(value)
      },
      (error: unknown) => {
        storeDeadlines.cancel(deadline)
        reject(error)
      },
    )
  })
}
