/** Memcached reads an expiration above 30 days as an absolute unix time, not a duration. */
export const RELATIVE_LIMIT_SECONDS = 60 * 60 * 24 * 30

/**
 * The expiration field for a TTL in ms: 0 means never expire. Memcached counts whole seconds on
 * a clock that ticks once a second, so an item given N seconds disappears after N-1 to N
 * seconds; rounding up and adding one tick guarantees the entry lives at least `ttlMs`. Past 30
 * days the value must be an absolute unix time (memcached's rule), computed from `nowMs`.
 */
export function memcachedExpiration(ttlMs: number | undefined, nowMs: number = Date.now()): number {
  if (ttlMs === undefined) return 0
  const seconds = Math.ceil(Math.max(1, ttlMs) / 1000) + 1
  if (seconds <= RELATIVE_LIMIT_SECONDS) return seconds
  return Math.floor(nowMs / 1000) + seconds
}
