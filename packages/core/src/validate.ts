import { InvalidOptionError } from './errors.js'

/**
 * The one place option values are checked, so the cache, the stores, the write-behind queue and
 * both ORM adapters reject the same mistake with the same `InvalidOptionError` message, naming
 * the option by its full path (`circuitBreaker.failureThreshold`, `cache.ttl`).
 */

/**
 * The longest TTL any store accepts: Memcached stores an expiry past 30 days as a 32-bit unix
 * time (it ends in 2106), and Redis refuses a PX beyond a signed 64-bit ms clock. Ten years is
 * far inside both, so a TTL that validates is always a TTL the store keeps.
 */
export const MAX_TTL_MS = 10 * 365 * 24 * 60 * 60 * 1000

/** Node's timers overflow past 2^31-1 ms and fire after 1 ms instead: no timer option may exceed it. */
export const MAX_TIMER_MS = 2 ** 31 - 1

/** The value as a plain options object; anything else (a string, `null`, an array) is refused. */
export function optionsObject(
  name: string,
  value: unknown,
  hint = 'must be an object',
): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidOptionError(name, hint)
  }
  return value as Record<string, unknown>
}

/**
 * Refuses keys outside `known`, so a typo (`timeouts.reed`) fails loudly instead of silently
 * leaving the default in place. `prefix` is the path of the object (`"timeouts"`), or "" at the top.
 */
export function knownKeys(prefix: string, value: object, known: readonly string[]): void {
  for (const key of Object.keys(value)) {
    if (known.includes(key)) continue
    const guess = closest(key, known)
    throw new InvalidOptionError(
      prefix === '' ? key : `${prefix}.${key}`,
      `is not a known option${guess === undefined ? '' : ` (did you mean "${guess}"?)`}; expected one of ${known.join(', ')}`,
    )
  }
}

/** Bounds of a duration option for `durationMs`. */
export interface DurationRule {
  /** Whether 0 is accepted. Default false. */
  allowZero?: boolean
  /** Upper bound in ms. Default `MAX_TTL_MS`. */
  max?: number
}

/** A duration in ms: a finite number, positive (or non-negative), at most `max`. */
export function durationMs(name: string, value: unknown, rule: DurationRule = {}): number {
  const allowZero = rule.allowZero ?? false
  const max = rule.max ?? MAX_TTL_MS
  if (
    typeof value !== 'number' ||
    !Number.isFinite(value) ||
    value < 0 ||
    (!allowZero && value === 0) ||
    value > max
  ) {
    throw new InvalidOptionError(
      name,
      `must be a ${allowZero ? 'non-negative' : 'positive'} finite number of ms, at most ${max}`,
    )
  }
  return value
}

/** An integer in [min, max]; strings such as `'3'` are refused, not coerced. */
export function integerOption(
  name: string,
  value: unknown,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new InvalidOptionError(
      name,
      max === Number.MAX_SAFE_INTEGER
        ? `must be an integer >= ${min}`
        : `must be an integer in [${min}, ${max}]`,
    )
  }
  return value
}

/** `true` or `false`; `'yes'` or `1` are refused, not coerced. */
export function booleanOption(name: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw new InvalidOptionError(name, 'must be a boolean')
  return value
}

/** A callback option (`onError`, `flush`, `onRead`). */
export function functionOption<F>(name: string, value: F): F {
  if (typeof value !== 'function') throw new InvalidOptionError(name, 'must be a function')
  return value
}

/** A name, prefix or key given as text: a string with at least one character. */
export function nonEmptyString(name: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new InvalidOptionError(name, 'must be a non-empty string')
  }
  return value
}

/** The nearest known key within two edits, for a "did you mean" hint. */
function closest(key: string, known: readonly string[]): string | undefined {
  let best: string | undefined
  // Up to two edits, three for longer names (`maxEntry` → `maxEntries`).
  let bestDistance = key.length >= 6 ? 4 : 3
  for (const candidate of known) {
    const distance = editDistance(key.toLowerCase(), candidate.toLowerCase())
    if (distance < bestDistance) {
      best = candidate
      bestDistance = distance
    }
  }
  return best
}

function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 3) return 4
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(
        previous[j]! + 1,
        current[j - 1]! + 1,
        previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
      )
    }
    previous = current
  }
  return previous[b.length]!
}
