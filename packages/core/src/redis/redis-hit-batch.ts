import type { Redis } from 'ioredis'
import { sendBeforeRelease } from './redis-cork.js'
import { sendNow } from './redis-direct.js'

/** One read waiting in a batch: where its keys sit in the batch, and how to answer it. */
interface Waiter {
  at: number[]
  resolve: (values: (string | undefined)[]) => void
  reject: (error: unknown) => void
}

/** One turn's hit reads: every distinct key once, in the order first asked. */
interface Batch {
  keys: string[]
  slots: Map<string, number>
  waiters: Waiter[]
}

/**
 * The hit reads (read-path/plain-hit.ts) of one loop turn, sent together as ONE GETEX and ONE MGET
 * instead of a GETEX and an MGET per read: 64 concurrent hits cost two commands of the client
 * instead of 128, and the epoch and a table's bulk tag, which every hit reads, travel once. This
 * is the per-hit client CPU that dominated a hit at high concurrency.
 *
 * Same meaning as one read each: a read joins only the batch that has not been sent yet, and the
 * batch leaves when it is scheduled, after every read in it started, so it sees every write that
 * finished before any of them began. The GETEX (of the first read's entry) comes first on the
 * connection and the MGET of everything else behind it: Redis counts GETEX as a write, so under
 * CLIENT PAUSE WRITE it is held like the LOOKUP script, and the MGET behind it with it
 * (test/client-pause.test.ts).
 */
export class HitBatches {
  private open: Batch | undefined
  /** A server without GETEX (Redis < 6.2, or renamed away): every read answers nothing. */
  private noGetex = false
  /** Readers in the last batch sent: one means a caller that is alone (redis-cork.ts). */
  private lastReaders = 0

  constructor(private readonly client: Redis) {}

  /**
   * The entry at `entryKey` and each of `keys`; empty when the server has no GETEX (the caller
   * then takes the full lookup). Rejects with the batch's error.
   */
  read(entryKey: string, keys: readonly string[]): Promise<(string | undefined)[]> {
    if (this.noGetex) return Promise.resolve([])
    let batch = this.open
    if (batch === undefined) {
      batch = { keys: [], slots: new Map(), waiters: [] }
      this.open = batch
      const sending = batch
      // Sent just before the turn's held writes leave (redis-cork.ts; at the tick's end where
      // nothing is held): one batch gathers every hit of the turn and still leaves in the same
      // write. The callback sends the batch itself and the replies answer each read directly: no
      // gate promise, async frame or Promise.all between it and the client (their allocations
      // and microtasks were a visible part of a hit's CPU at 64 callers).
      sendBeforeRelease(
        this.client,
        () => {
          // Closed before it is sent: a read that starts from here on opens the next batch.
          if (this.open === sending) this.open = undefined
          this.lastReaders = sending.waiters.length
          this.sendBatch(sending)
        },
        this.lastReaders === 1,
      )
    }
    const count = keys.length
    const at = new Array<number>(count + 1)
    at[0] = slot(batch, entryKey)
    for (let i = 0; i < count; i++) at[i + 1] = slot(batch, keys[i]!)
    const waiters = batch.waiters
    return new Promise((resolve, reject) => {
      waiters.push({ at, resolve, reject })
    })
  }

  private sendBatch(batch: Batch): void {
    const keys = batch.keys
    let entry: string | null | undefined
    let others: (string | null)[] | undefined
    let failed = false
    const fail = (error: unknown) => {
      if (failed) return
      failed = true
      if (error instanceof Error && /unknown command/i.test(error.message)) {
        this.noGetex = true
        for (const waiter of batch.waiters) waiter.resolve([])
        return
      }
      for (const waiter of batch.waiters) waiter.reject(error)
    }
    // Both replies arrive in order on the one connection; the reads are answered once both are in.
    const answer = () => {
      if (failed || entry === undefined || others === undefined) return
      const values = others
      values.unshift(entry)
      for (const { at, resolve } of batch.waiters) {
        const out = new Array<string | undefined>(at.length)
        for (let i = 0; i < at.length; i++) out[i] = values[at[i]!] ?? undefined
        resolve(out)
      }
    }
    sendNow(this.client, 'getex', [keys[0]!]).then((value) => {
      entry = value as string | null
      answer()
    }, fail)
    if (keys.length === 1) others = []
    else
      sendNow(this.client, 'mget', keys.slice(1)).then((values) => {
        others = values as (string | null)[]
        answer()
      }, fail)
  }
}

function slot(batch: Batch, key: string): number {
  let at = batch.slots.get(key)
  if (at === undefined) {
    at = batch.keys.length
    batch.keys.push(key)
    batch.slots.set(key, at)
  }
  return at
}
