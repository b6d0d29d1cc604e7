import type { Cluster, Redis } from 'ioredis'

/** Channel on which FILL (redis-scripts.ts) announces an entry that someone was waiting for. */
export const WAKE_CHANNEL = 'ormcache:wake'

/** Wakes remembered this long, for a waiter that starts listening just after its wake. */
const REMEMBER_MS = 1_000

/**
 * Lets lease waiters sleep until the holder's fill instead of polling: one subscribed connection
 * per store, opened at the first wait. A wake that arrives before its waiter listens is
 * remembered briefly; a lost one (not yet subscribed, reconnecting) costs the waiter its fallback
 * poll interval, never correctness.
 */
export class RedisWaker {
  private subscriber: Redis | Cluster | undefined
  private ready = false
  private readonly waiters = new Map<string, Set<() => void>>()
  private readonly recent = new Map<string, number>()

  constructor(private readonly client: Redis | Cluster) {}

  /** Resolves on a wake for `key` after `since` (performance.now()), or after `ms`. */
  wait(key: string, ms: number, since: number): Promise<void> {
    this.start()
    const woke = this.recent.get(key)
    if (woke !== undefined && woke >= since) return Promise.resolve()
    return new Promise((resolve) => {
      let set = this.waiters.get(key)
      if (set === undefined) {
        set = new Set()
        this.waiters.set(key, set)
      }
      const done = () => {
        clearTimeout(timer)
        set.delete(done)
        if (set.size === 0 && this.waiters.get(key) === set) this.waiters.delete(key)
        resolve()
      }
      const timer = setTimeout(done, ms)
      timer.unref?.()
      set.add(done)
    })
  }

  /** False until the subscription is live: callers poll at their normal pace until then. */
  get listening(): boolean {
    return this.ready
  }

  close(): void {
    this.subscriber?.disconnect()
    this.subscriber = undefined
    this.ready = false
  }

  private start(): void {
    if (this.subscriber !== undefined) return
    const subscriber = this.client.duplicate()
    this.subscriber = subscriber
    subscriber.on('error', () => {})
    subscriber.on('message', (channel: string, key: string) => {
      if (channel !== WAKE_CHANNEL) return
      const now = performance.now()
      this.recent.set(key, now)
      if (this.recent.size > 1_000) {
        for (const [k, at] of this.recent) if (now - at > REMEMBER_MS) this.recent.delete(k)
      }
      for (const done of [...(this.waiters.get(key) ?? [])]) done()
    })
    const lost = () => {
      this.ready = false
    }
    subscriber.on('close', lost)
    subscriber.on('reconnecting', lost)
    const listen = () => {
      subscriber.subscribe(WAKE_CHANNEL).then(() => {
        if (this.subscriber === subscriber) this.ready = true
      }, lost)
    }
    subscriber.on('ready', listen)
    if (subscriber.status === 'ready') listen()
  }
}
