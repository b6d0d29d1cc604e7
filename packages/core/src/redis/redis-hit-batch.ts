/** The two commands a batch sends; a Redis client (single node) has both. */
export interface HitBatchClient {
  getex(key: string): Promise<string | null>
  mget(...keys: string[]): Promise<(string | null)[]>
}

/** One tick's hit reads: every distinct key once, in the order first asked. */
interface Batch {
  keys: string[]
  slots: Map<string, number>
  /** Values of `keys`, by slot; `undefined` when the server has no GETEX. */
  reply: Promise<(string | null)[] | undefined>
}

/**
 * The hit reads (read-path/plain-hit.ts) of one tick, sent together as ONE GETEX and ONE MGET
 * instead of a GETEX and an MGET per read: 64 concurrent hits cost two commands of the client
 * instead of 128, and the epoch and a table's bulk tag, which every hit reads, travel once. This
 * is the per-hit client CPU that dominated a hit at high concurrency.
 *
 * Same meaning as one read each: a read joins only the batch that has not been sent yet, and the
 * batch leaves on the next tick, after every read in it started, so it sees every write that
 * finished before any of them began. The GETEX (of the first read's entry) comes first on the
 * connection and the MGET of everything else behind it: Redis counts GETEX as a write, so under
 * CLIENT PAUSE WRITE it is held like the LOOKUP script, and the MGET behind it with it
 * (test/client-pause.test.ts).
 */
export class HitBatches {
  private open: Batch | undefined
  /** A server without GETEX (Redis < 6.2, or renamed away): every read answers nothing. */
  private noGetex = false

  constructor(private readonly client: HitBatchClient) {}

  /**
   * The entry at `entryKey` and each of `keys`; empty when the server has no GETEX (the caller
   * then takes the full lookup). Rejects with the batch's error.
   */
  read(entryKey: string, keys: readonly string[]): Promise<(string | undefined)[]> {
    if (this.noGetex) return Promise.resolve([])
    let batch = this.open
    if (batch === undefined) {
      batch = this.start()
      this.open = batch
    }
    const count = keys.length
    const at = new Array<number>(count + 1)
    at[0] = slot(batch, entryKey)
    for (let i = 0; i < count; i++) at[i + 1] = slot(batch, keys[i]!)
    return batch.reply.then((values) => {
      if (values === undefined) return []
      const out = new Array<string | undefined>(count + 1)
      for (let i = 0; i <= count; i++) out[i] = values[at[i]!] ?? undefined
      return out
    })
  }

  private start(): Batch {
    let send!: () => void
    const gate = new Promise<void>((resolve) => {
      send = resolve
    })
    const batch: Batch = { keys: [], slots: new Map(), reply: gate.then(() => this.send(batch)) }
    process.nextTick(() => {
      // Closed before it is sent: a read that starts from here on opens the next batch.
      if (this.open === batch) this.open = undefined
      send()
    })
    return batch
  }

  private async send(batch: Batch): Promise<(string | null)[] | undefined> {
    const [fence, ...rest] = batch.keys
    const asked: [Promise<string | null>, Promise<(string | null)[]>] = [
      this.client.getex(fence!),
      rest.length === 0 ? Promise.resolve([]) : this.client.mget(...rest),
    ]
    let entry: string | null
    let others: (string | null)[]
    try {
      ;[entry, others] = await Promise.all(asked)
    } catch (error) {
      if (!(error instanceof Error) || !/unknown command/i.test(error.message)) throw error
      this.noGetex = true
      return undefined
    }
    others.unshift(entry)
    return others
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
