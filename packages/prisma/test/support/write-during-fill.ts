import { expect } from 'vitest'
import type { QueryProbe } from './probe.js'

/**
 * The deterministic race every dependency kind must survive: `write` lands after the read took
 * its snapshot and ran the statement matching `pause`, before its fill. The read returns what it
 * loaded; nothing valid was stored, so the next read loads again and is fresh, and the one after
 * is a hit. `cached` reads through the cache, `fresh` straight from the database.
 */
export async function expectWriteDuringFillNeverStale(
  probe: QueryProbe,
  pause: RegExp,
  cached: () => Promise<unknown>,
  fresh: () => Promise<unknown>,
  write: () => Promise<unknown>,
): Promise<void> {
  const before = await fresh()
  const paused = probe.pauseNext(pause, { after: true })
  const reader = cached()
  await paused.reached
  await write()
  paused.release()
  expect(await reader).toEqual(before)
  probe.reset()
  expect(await cached()).toEqual(await fresh())
  expect(probe.count).toBeGreaterThan(0)
  expect(await cached()).not.toEqual(before)
  probe.reset()
  expect(await cached()).toEqual(await fresh())
  expect(probe.count).toBe(0)
}
