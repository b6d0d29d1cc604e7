import { describe, expect, it } from 'vitest'
import { createCache, memoryQueue, writeBehind } from '../src/exports/index.js'

describe('write-behind during a queue outage', () => {
  it('stops trying a failing queue after three failures, so each write falls back at once', async () => {
    const queue = memoryQueue()
    let enqueues = 0
    let failing = true
    const enqueue = queue.enqueue.bind(queue)
    queue.enqueue = async (write) => {
      enqueues++
      if (failing) throw new Error('queue down')
      return enqueue(write)
    }
    const database = new Map<string, number>()
    const writer = writeBehind<number>({
      cache: createCache(),
      queue,
      flush: async (batch) => {
        for (const { key, value } of batch) database.set(key, value)
      },
      flushIntervalMs: 3_600_000,
    })
    writer.on('error', () => {})
    for (let i = 0; i < 10; i++) {
      expect(await writer.write('views:1', i)).toMatchObject({ queued: false, direct: true })
    }
    expect(enqueues).toBe(3) // the rest never waited on the dead queue
    expect(database.get('views:1')).toBe(9) // and no write was lost
    failing = false
    await new Promise((resolve) => setTimeout(resolve, 1_050))
    expect(await writer.write('views:1', 10)).toMatchObject({ queued: true }) // the half-open probe
    await writer.close()
    expect(database.get('views:1')).toBe(10)
  })
})
