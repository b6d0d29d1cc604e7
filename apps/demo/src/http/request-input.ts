import type { FastifyRequest } from 'fastify'
import type { ReadMode } from '../blog/types.js'
import { InvalidFieldError } from '../errors.js'

/**
 * "Cache off" for one request: `?cache=off` or the header `x-ormcache: off`. The homepage
 * scenario uses it to show the same load with and without the cache.
 */
export function readMode(request: FastifyRequest): ReadMode {
  const query = request.query as { cache?: string } | undefined
  const header = request.headers['x-ormcache']
  return { cache: query?.cache !== 'off' && header !== 'off' }
}

/** The `:id` path parameter (the schema already checked it is digits). */
export function idParam(request: FastifyRequest): number {
  const raw = (request.params as { id: string }).id
  const id = Number(raw)
  if (!Number.isSafeInteger(id) || id < 1 || id > 2_147_483_647) {
    throw new InvalidFieldError('params/id', 'must be between 1 and 2147483647')
  }
  return id
}

/** `?take=` within [1, max], or the default. */
export function takeParam(request: FastifyRequest, fallback: number, max: number): number {
  const raw = (request.query as { take?: string }).take
  if (raw === undefined) return fallback
  const take = Number(raw)
  if (!Number.isInteger(take) || take < 1 || take > max) {
    throw new InvalidFieldError('querystring/take', `must be between 1 and ${max}`)
  }
  return take
}
