import type { Cluster, Redis } from 'ioredis'
import type { QueuedWrite } from './queue.js'
import { parseEntry, type RawEntry } from './redis-stream-entries.js'

/** What the reader needs from its queue. */
export interface StreamAccess {
  client: Redis | Cluster
  stream: string
  group: string
  consumer: string
  claimIdleMs: number
  timed<T>(promise: Promise<T>): Promise<T>
  /** Creates the consumer group (and the stream) if missing. */
  open(): Promise<void>
  deadLetter(entries: readonly QueuedWrite[], error: string, attempts: number): Promise<void>
}

/**
 * Reads what one consumer may flush, in three phases per pass: its own pending entries
 * (deferred keys, or a pass a fault interrupted), entries crashed consumers left pending longer
 * than `claimIdleMs` (XAUTOCLAIM), then new entries (XREADGROUP >). Nothing blocks: a pass ends
 * when the stream has nothing more for this consumer.
 */
export class StreamReader {
  private lastClaimAt = 0

  constructor(private readonly access: StreamAccess) {}

  async *pass(max: number): AsyncIterable<QueuedWrite[]> {
    let after = '0'
    for (;;) {
      const raw = await this.readGroup(max, after)
      if (raw.length === 0) break
      after = raw[raw.length - 1]![0]
      yield await this.accept(raw)
    }
    // Taking over is only needed once per idle period, not on every pass.
    if (Date.now() - this.lastClaimAt >= this.access.claimIdleMs / 2) {
      this.lastClaimAt = Date.now()
      let cursor = '0-0'
      do {
        const { client, stream, group, consumer, claimIdleMs } = this.access
        const reply = (await this.access.timed(
          client.xautoclaim(stream, group, consumer, claimIdleMs, cursor, 'COUNT', max),
        )) as [string, RawEntry[], string[]?]
        cursor = String(reply[0])
        if (reply[1].length > 0) yield await this.accept(reply[1])
      } while (cursor !== '0-0')
      await this.forgetIdleConsumers()
    }
    for (;;) {
      const raw = await this.readGroup(max, '>')
      if (raw.length === 0) break
      yield await this.accept(raw)
    }
  }

  private async readGroup(max: number, from: string): Promise<RawEntry[]> {
    const { client, stream, group, consumer } = this.access
    let reply: unknown
    try {
      reply = await this.access.timed(
        client.xreadgroup('GROUP', group, consumer, 'COUNT', max, 'STREAMS', stream, from),
      )
    } catch (error) {
      // The stream was deleted, and its group with it: recreate the group; the later phases
      // of this pass read whatever was written since.
      if (!(error instanceof Error) || !error.message.startsWith('NOGROUP')) throw error
      await this.access.open()
      return []
    }
    const streams = reply as [string, RawEntry[]][] | null
    return streams?.[0]?.[1] ?? []
  }

  /** Turns stream entries into queued writes; entries this queue did not write are dead-lettered. */
  private async accept(raw: RawEntry[]): Promise<QueuedWrite[]> {
    const { client, stream, group } = this.access
    const writes: QueuedWrite[] = []
    const foreign: QueuedWrite[] = []
    for (const [id, fields] of raw) {
      const write = parseEntry(id, fields)
      if (write !== undefined) writes.push(write)
      else if (fields === null) await this.access.timed(client.xack(stream, group, id))
      else foreign.push({ id, key: '', payload: JSON.stringify(fields), tags: [], writtenAt: 0 })
    }
    if (foreign.length > 0) await this.access.deadLetter(foreign, 'not a write-behind stream entry', 0)
    return writes
  }

  /**
   * Crashed processes leave their consumers in the group; once their entries were claimed they
   * own nothing. Removing a consumer that owns nothing is harmless even if it is alive (its next
   * read recreates it), so a long idle time is all the evidence needed.
   */
  private async forgetIdleConsumers(): Promise<void> {
    const { client, stream, group, consumer: self, claimIdleMs } = this.access
    const consumers = (await this.access.timed(client.xinfo('CONSUMERS', stream, group))) as unknown[][]
    for (const consumer of consumers) {
      const info = new Map<string, unknown>()
      for (let i = 0; i + 1 < consumer.length; i += 2) info.set(String(consumer[i]), consumer[i + 1])
      const name = String(info.get('name'))
      if (name === self || Number(info.get('pending')) !== 0) continue
      if (Number(info.get('idle')) < claimIdleMs * 2) continue
      await this.access.timed(client.xgroup('DELCONSUMER', stream, group, name))
    }
  }
}
