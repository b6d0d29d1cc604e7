import type { Cluster, Redis } from 'ioredis'
import { type ChannelSubscriber, subscribeDuplicate } from './redis-subscriber.js'

/** Channel on which FILL (redis-scripts.ts) announces an entry that someone was waiting for. */
export const WAKE_CHANNEL = 'ormcache:wake'

/** Wakes remembered this long, for a waiter that starts listening just after its wake. */
const REMEMBER_MS = 1_000

/** A wake: the entry key, and the entry as stored when the message carried it (WAKE_MESSAGE). */
export interface Wake {
  key: string
  entry: string | undefined
}

/**
 * Parses a wake message. One without a length prefix (an older writer's bare key) is a bare wake
 * of the whole message, which only costs its waiter a lookup.
 */
export function parseWake(message: string): Wake {
  const colon = message.indexOf(':')
  const length = colon > 0 ? Number(message.slice(0, colon)) : Number.NaN
  if (!Number.isInteger(length) || colon + 1 + length > message.length)
    return { key: message, entry: undefined }
  const rest = message.slice(colon + 1 + length)
  return { key: message.slice(colon + 1, colon + 1 + length), entry: rest === '' ? undefined : rest }
}

/**
 * Lets lease waiters sleep until the holder's fill instead of polling: one subscribed connection
 * per store, opened at the first wait. A wake that arrives before its waiter listens is
 * remembered briefly (without its entry); a lost one (not yet subscribed, reconnecting) costs the
 * waiter its fallback poll interval, never correctness.
 */
export class RedisWaker {
  private subscriber: ChannelSubscriber | undefined
  private ready = false
  private readonly waiters = new Map<string, Set<(entry: string | undefined) => void>>()
  private readonly recent = new Map<string, number>()

  constructor(private readonly client: Redis | Cluster) {}

  /**
   * Resolves on a wake for `key` after `since` (performance.now()), with the announced entry
   * when the wake carried it, or with undefined after `ms`.
   */
  wait(key: string, ms: number, since: number): Promise<string | undefined> {
    this.start()
    const woke = this.recent.get(key)
    if (woke !== undefined && woke >= since) return Promise.resolve(undefined)
    return new Promise((resolve) => {
      let set = this.waiters.get(key)
      if (set === undefined) {
        set = new Set()
        this.waiters.set(key, set)
      }
      const done = (entry: string | undefined) => {
        clearTimeout(timer)
        set.delete(done)
        if (set.size === 0 && this.waiters.get(key) === set) this.waiters.delete(key)
        resolve(entry)
      }
      const timer = setTimeout(() => done(undefined), ms)
      timer.unref?.()
      set.add(done)
    })
  }

  /** False until the subscription is live: callers poll at their normal pace until then. */
  get listening(): boolean {
    return this.ready
  }

  /**
   * While the first subscription is being set up: resolves once it is live (the caller then
   * looks once, which covers any wake sent before it listened) or after `ms`. Undefined when
   * it is not being set up (down after it was live, or failed): the caller polls.
   */
  untilListening(ms: number): Promise<undefined> | undefined {
    this.start()
    if (this.ready || this.settled) return undefined
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer)
        this.onLive.delete(done)
        resolve(undefined)
      }
      const timer = setTimeout(done, ms)
      timer.unref?.()
      this.onLive.add(done)
    })
  }

  private settled = false
  private readonly onLive = new Set<() => void>()

  close(): void {
    this.subscriber?.close()
    this.subscriber = undefined
    this.ready = false
  }

  private start(): void {
    if (this.subscriber !== undefined) return
    const subscriber = subscribeDuplicate(
      this.client,
      WAKE_CHANNEL,
      (message) => {
        const { key, entry } = parseWake(message)
        const now = performance.now()
        this.recent.set(key, now)
        if (this.recent.size > 1_000) {
          for (const [k, at] of this.recent) if (now - at > REMEMBER_MS) this.recent.delete(k)
        }
        for (const done of [...(this.waiters.get(key) ?? [])]) done(entry)
      },
      (live) => {
        this.ready = live && this.subscriber === subscriber
        this.settled = true
        for (const done of [...this.onLive]) done()
      },
    )
    this.subscriber = subscriber
  }
}
