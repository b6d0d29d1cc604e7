import crypto from 'node:crypto'

/**
 * Two independent cryptographic hashes: one names the store key, the other is kept inside the
 * entry as its identity. A collision would have to hit both to serve another query's value.
 */
const oneShot = (crypto as { hash?: (algorithm: string, data: string, encoding: 'base64url') => string }).hash

export function keyHash(text: string): string {
  return oneShot ? oneShot('sha256', text, 'base64url') : digest('sha256', text)
}

export function identityHash(text: string): string {
  return oneShot ? oneShot('sha512-256', text, 'base64url') : digest('sha512-256', text)
}

function digest(algorithm: string, text: string): string {
  return crypto.createHash(algorithm).update(text).digest('base64url')
}
