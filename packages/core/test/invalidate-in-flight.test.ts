import { describe, expect, it } from 'vitest'
import { createCache, memoryStore } from '../src/exports/index.js'
import { gate } from './support/faulty-store.js'

// Two invalidations of one tag in one process, the second made while the first's bump is on its
// way (the store applied it, its reply has not come back): the second write committed after the
// first bump landed, so a reader may have cached the row before it under the first bump's
// version. The second invalidation must move the tag again, not be absorbed by the first.
describe('an invalidation of a tag whose bump is in flight', () => {
  it('moves the tag again', async () => {
    const store = memoryStore()
    const held = gate()
    const landed = gate()
    let holding = true
    const setMany = store.setMany.bind(store)
    store.setMany = async (entries) => {
      await setMany(entries) // applied in the store...
      if (holding) {
        holding = false
        landed.open()
        await held.promise // ...but the reply is late
      }
    }
    const writer = createCache({ namespace: 'in-flight', store, bus: false, lease: false })
    const reader = createCache({ namespace: 'in-flight', store, bus: false, lease: false })
    const read = (value: string) => reader.wrap('row', () => value, { tags: ['x'] })
    expect(await read('v0')).toBe('v0')

    const first = writer.invalidateTags(['x']) // write 1 committed
    await landed.promise
    expect(await read('v1')).toBe('v1') // another process caches the row after the first bump
    const second = writer.invalidateTags(['x']) // write 2 committed, then invalidates
    held.open()
    await Promise.all([first, second])
    expect(await read('v2')).toBe('v2')
    await writer.close()
    await reader.close()
  })
})
