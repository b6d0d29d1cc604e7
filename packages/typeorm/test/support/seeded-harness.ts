import { memoryStore } from '@ormcache/core'
import { afterAll, beforeAll, beforeEach } from 'vitest'
import type { Dialect } from './databases.js'
import { type Harness, openHarness, type Seeded, seed, wipe } from './harness.js'
import type { QueryProbe } from './probes.js'

/**
 * The precision suites' setup: one always-enabled harness per dialect on a memory store, its
 * statements counted by `probe`, and before every test wiped, seeded (harness.ts) and with an
 * empty cache. `use` receives the harness once and the fresh seed before every test.
 */
export function seededHarness(
  dialect: Dialect,
  name: string,
  probe: QueryProbe,
  use: (h: Harness, s: Seeded) => void,
): void {
  let h: Harness | undefined
  beforeAll(async () => {
    h = await openHarness(dialect, {
      cache: { store: memoryStore(), namespace: `${name}-${process.pid}-${dialect}` },
      adapter: { alwaysEnabled: true },
      subscribers: [probe.subscriber()],
    })
  })
  afterAll(async () => {
    await h?.close()
  })
  beforeEach(async () => {
    await wipe(h!)
    const s = await seed(h!)
    await h!.cache.clear()
    use(h!, s)
  })
}
