import { expect } from 'vitest'
import type { Harness } from './clients.js'

/**
 * Caches `read`, checks a second read is a hit, runs `write`, and returns how many statements
 * the cached client sent to re-read: 0 means the write left the cached result in place.
 */
export async function queriesAfter(
  h: Harness,
  read: () => Promise<unknown>,
  write: () => Promise<unknown>,
): Promise<number> {
  await read()
  h.probe.reset()
  await read()
  expect(h.probe.statements, 'cached before the write').toEqual([])
  await write()
  h.probe.reset()
  await read()
  return h.probe.count
}
