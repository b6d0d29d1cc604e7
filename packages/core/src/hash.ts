import crypto from 'node:crypto'

/**
 * Two independent cryptographic hashes: one names the store key, the other is kept inside the
 * entry as its identity. A collision would have to hit both to serve another query's value.
 *
 * Hashing a JS string as UTF-8 is lossy for lone UTF-16 surrogates: `'s\uD800'` and `'s\uD801'`
 * both encode as `s` + U+FFFD and would share one entry. Such strings are hashed over their
 * UTF-16 code units instead, behind a 0xFF byte that no UTF-8 encoding contains, so they can
 * neither collide with each other nor with any well-formed string (whose hashes stay unchanged).
 */
const oneShot = (crypto as { hash?: (algorithm: string, data: string, encoding: 'base64url') => string }).hash

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

/** Whether `text` survives a UTF-8 round trip unchanged (no lone surrogate). */
export function isWellFormed(text: string): boolean {
  return !LONE_SURROGATE.test(text)
}

export function keyHash(text: string): string {
  return hash('sha256', text)
}

export function identityHash(text: string): string {
  return hash('sha512-256', text)
}

function hash(algorithm: string, text: string): string {
  if (!isWellFormed(text)) {
    return crypto
      .createHash(algorithm)
      .update(LOSSLESS_MARK)
      .update(Buffer.from(text, 'utf16le'))
      .digest('base64url')
  }
  return oneShot
    ? oneShot(algorithm, text, 'base64url')
    : crypto.createHash(algorithm).update(text).digest('base64url')
}

const LOSSLESS_MARK = Buffer.from([0xff])
