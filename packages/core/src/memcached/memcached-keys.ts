import crypto from 'node:crypto'

/** Memcached's key limit, in bytes. */
export const MAX_KEY_BYTES = 250

/**
 * Marks a key this store hashed. A key that already contains it is hashed too, so a hashed
 * form can never equal a key that was passed through unchanged.
 */
const HASHED = '~mc~'
/** Printable ASCII without space: what both memcached protocols accept in a key. */
const PRINTABLE = /^[\x21-\x7e]+$/
const PRINTABLE_PREFIX = /^[\x21-\x7e]*/
const MAX_LABEL = 64

/**
 * The key sent to memcached for `key`. Keys the core produces pass through unchanged; anything
 * longer than 250 bytes, empty, or containing spaces, control or non-ASCII characters becomes
 * a readable prefix plus a SHA-256 of the whole key, deterministically in every process.
 */
export function memcachedKey(key: string): string {
  if (key.length <= MAX_KEY_BYTES && PRINTABLE.test(key) && !key.includes(HASHED)) return key
  const label = (PRINTABLE_PREFIX.exec(key)?.[0] ?? '').replaceAll(HASHED, '').slice(0, MAX_LABEL)
  return `${label}${HASHED}${crypto.createHash('sha256').update(key, 'utf8').digest('base64url')}`
}
