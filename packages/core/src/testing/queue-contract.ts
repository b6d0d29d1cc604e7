import assert from 'node:assert/strict'
import crypto from 'node:crypto'
import { OrmCacheError } from '../errors.js'
import type { QueuedWrite, WriteBehindQueue } from '../write-behind/queue.js'
import type { ContractRunner } from './store-contract.js'

/** A new, unattached queue per call; the contract attaches it to a namespace of its own. */
export type QueueFactory = () => Promise<WriteBehindQueue> | WriteBehindQueue

/**
 * The behaviour every `WriteBehindQueue` must have for write-behind to be correct: writes come
 * back intact, the latest write to a key wins (`lock` says `stale` for older ones, `complete`
 * says whether a newer one waits), unfinished writes come back on the next pass, and dead letters
 * replay only while no newer write exists. Run it against a real backend:
 *
 *   runQueueContract('redis-stream', () => redisStreamQueue({ client }), { describe, it, beforeAll, afterAll })
 */
export function runQueueContract(name: string, factory: QueueFactory, runner: ContractRunner): void {
  const { describe, it, afterAll } = runner
  const open: WriteBehindQueue[] = []
  // Unique per run and per test, so a shared server never leaks queued writes between them.
  const run = crypto.randomBytes(6).toString('hex')
  let tests = 0
  const fresh = async (): Promise<WriteBehindQueue> => {
    const queue = await factory()
    queue.attach({ namespace: `qc${run}t${++tests}` })
    await queue.open()
    open.push(queue)
    return queue
  }
  const write = (key: string, payload = `v-${key}`): Omit<QueuedWrite, 'id'> => ({
    key,
    payload,
    tags: [`t:${key}`],
    writtenAt: 1_700_000_000_000,
  })
  const drain = async (queue: WriteBehindQueue, max = 100): Promise<QueuedWrite[]> => {
    const all: QueuedWrite[] = []
    for await (const chunk of queue.pass(max)) {
      assert.ok(chunk.length <= max, `a chunk of ${chunk.length} entries exceeds max ${max}`)
      all.push(...chunk)
    }
    return all
  }

  describe(`write-behind queue contract: ${name}`, () => {
    afterAll(async () => {
      for (const queue of open) await queue.close()
    }, 30_000)

    it('declares its kind, durability and keep-alive period', async () => {
      const queue = await fresh()
      assert.equal(typeof queue.kind, 'string')
      assert.equal(typeof queue.durable, 'boolean')
      assert.ok(queue.keepAliveMs === undefined || queue.keepAliveMs > 0)
    })

    it('refuses a second writer with a typed error', async () => {
      const queue = await fresh()
      assert.throws(
        () => queue.attach({ namespace: 'another' }),
        (error) => error instanceof OrmCacheError && error.code === 'ERR_WRITE_BEHIND',
      )
    })

    it('hands back every write intact, oldest first, in chunks of at most max', async () => {
      const queue = await fresh()
      const ids = []
      for (const key of ['a', 'b', 'c', 'd', 'e']) ids.push(await queue.enqueue(write(key)))
      assert.equal(new Set(ids).size, 5, 'ids are unique')
      assert.equal(await queue.size(), 5)
      const passed = await drain(queue, 2)
      assert.deepEqual(
        passed.map((entry) => entry.id),
        ids,
      )
      assert.deepEqual(passed[0], { id: ids[0], ...write('a') })
      assert.deepEqual(await queue.lock(passed), ['ok', 'ok', 'ok', 'ok', 'ok'])
      assert.deepEqual(await queue.complete(passed), [true, true, true, true, true])
      assert.equal(await queue.size(), 0)
      assert.deepEqual(await drain(queue), [])
    })

    it('keeps unicode payloads and empty tag lists exactly', async () => {
      const queue = await fresh()
      const entry = { key: 'ü', payload: '{"s":"ünïcødé 🙂","n":null}', tags: [], writtenAt: 42 }
      const id = await queue.enqueue(entry)
      assert.deepEqual(await drain(queue), [{ id, ...entry }])
    })

    it('lets the latest write to a key win: older entries lock as stale', async () => {
      const queue = await fresh()
      await queue.enqueue(write('k', 'old'))
      const newest = await queue.enqueue(write('k', 'new'))
      const passed = await drain(queue)
      const verdicts = await queue.lock(passed)
      assert.deepEqual(
        passed.map((entry, i) => [entry.payload, verdicts[i]]),
        [
          ['old', 'stale'],
          ['new', 'ok'],
        ],
      )
      const latest = passed.filter((entry) => entry.id === newest)
      assert.deepEqual(await queue.complete(latest), [true])
      assert.equal(await queue.size(), 0)
    })

    it('complete says false when a newer write to the key arrived during the flush', async () => {
      const queue = await fresh()
      await queue.enqueue(write('k', 'first'))
      const [first] = await drain(queue)
      assert.deepEqual(await queue.lock([first!]), ['ok'])
      await queue.enqueue(write('k', 'second'))
      assert.deepEqual(await queue.complete([first!]), [false])
      const next = await drain(queue)
      assert.deepEqual(
        next.map((entry) => entry.payload),
        ['second'],
      )
    })

    it('hands unfinished entries back on the next pass', async () => {
      const queue = await fresh()
      const id = await queue.enqueue(write('u'))
      const first = await drain(queue)
      assert.deepEqual(
        first.map((entry) => entry.id),
        [id],
      )
      // A flusher holding an entry (locked) keeps it alive while its flush runs.
      assert.deepEqual(await queue.lock(first), ['ok'])
      assert.deepEqual(await queue.keepAlive(first), [true])
      const again = await drain(queue)
      assert.deepEqual(
        again.map((entry) => entry.id),
        [id],
      )
      assert.equal(await queue.size(), 1)
      assert.deepEqual(await queue.lock(again), ['ok'], 'the lock is re-entrant for its consumer')
      assert.deepEqual(await queue.complete(again), [true])
      assert.equal(await queue.size(), 0)
    })

    it('dead-letters failed entries and replays them once', async () => {
      const queue = await fresh()
      await queue.enqueue(write('d', 'payload'))
      const passed = await drain(queue)
      await queue.deadLetter(passed, 'boom', 3)
      assert.equal(await queue.size(), 0)
      const [record, ...others] = await queue.deadLetters()
      assert.equal(others.length, 0)
      assert.equal(record!.key, 'd')
      assert.equal(record!.payload, 'payload')
      assert.equal(record!.error, 'boom')
      assert.equal(record!.attempts, 3)
      assert.equal(typeof record!.failedAt, 'number')
      assert.equal(await queue.replay(record!), 'replayed')
      assert.deepEqual(await queue.deadLetters(), [])
      assert.equal(await queue.replay(record!), 'gone')
      const replayed = await drain(queue)
      assert.deepEqual(
        replayed.map((entry) => [entry.key, entry.payload]),
        [['d', 'payload']],
      )
      await queue.complete(replayed)
    })

    it('does not replay a dead letter over a newer write to its key', async () => {
      const queue = await fresh()
      await queue.enqueue(write('s', 'old'))
      await queue.deadLetter(await drain(queue), 'boom', 1)
      await queue.enqueue(write('s', 'new'))
      const [record] = await queue.deadLetters()
      assert.equal(await queue.replay(record!), 'superseded')
      assert.deepEqual(await queue.deadLetters(), [])
      const pending = await drain(queue)
      assert.deepEqual(
        pending.map((entry) => entry.payload),
        ['new'],
      )
      await queue.complete(pending)
    })
  })
}
