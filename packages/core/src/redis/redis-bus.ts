import type { Cluster, Redis } from 'ioredis'
import type { BusMessage, BusSubscription, InvalidationBus } from '../tiers/bus.js'
import { type ChannelSubscriber, subscribeDuplicate } from './redis-subscriber.js'

const QUIET_MS = 1_000

/**
 * The invalidation bus over Redis pub/sub: PUBLISH on the store's own connection, SUBSCRIBE on a
 * duplicate (a subscribed connection can do nothing else). Pub/sub is fire-and-forget, so while
 * the subscriber is not connected and subscribed, listeners are told they may be missing
 * messages (`onState(false)`) and turn their L1 off.
 */
export class RedisBus implements InvalidationBus {
  private subscriber: ChannelSubscriber | undefined
  private readonly subscriptions = new Set<BusSubscription>()
  private connected = false

  constructor(
    private readonly client: Redis | Cluster,
    private readonly channel: string,
  ) {}

  /**
   * No PUBLISH (a round trip on every invalidation) while nobody else listens: when the last one
   * reached no subscriber but this bus's own (receivers skip their own messages), publishes are
   * skipped for QUIET_MS, then one probes again. A single process with an L1 published every
   * write to itself alone. Sound because the bus only shortens L1 lag: strict mode confirms every
   * L1 hit with the store, and a bounded-mode L1 entry is never served past maxStaleness, bus or
   * not — a process that starts listening during a quiet window lags by at most that bound, as
   * on a lost message. On a Cluster PUBLISH counts only the receiving node's subscribers, so there
   * it always publishes.
   */
  async publish(message: BusMessage): Promise<void> {
    if (this.client.isCluster === true) {
      await this.client.publish(this.channel, JSON.stringify(message))
      return
    }
    if (performance.now() < this.quietUntil) return
    // Our own subscriber counts as a receiver once it is live; while it is not, it may still be
    // counted (subscribed before we heard), so only an answer at or below this is "nobody else".
    const own = this.connected ? 1 : 0
    const receivers = await this.client.publish(this.channel, JSON.stringify(message))
    this.quietUntil = receivers <= own ? performance.now() + QUIET_MS : 0
  }

  private quietUntil = 0

  async subscribe(subscription: BusSubscription): Promise<() => void> {
    this.subscriptions.add(subscription)
    subscription.onState(this.connected)
    if (this.subscriber === undefined) this.start()
    return () => {
      this.subscriptions.delete(subscription)
      if (this.subscriptions.size === 0) void this.close()
    }
  }

  async close(): Promise<void> {
    const subscriber = this.subscriber
    this.subscriber = undefined
    this.setConnected(false)
    subscriber?.close()
  }

  private start(): void {
    this.subscriber = subscribeDuplicate(
      this.client,
      this.channel,
      (text) => {
        const message = parse(text)
        if (message === undefined) return
        for (const subscription of this.subscriptions) subscription.onMessage(message)
      },
      (live) => {
        if (this.subscriber !== undefined) this.setConnected(live)
      },
    )
  }

  private setConnected(connected: boolean): void {
    if (this.connected === connected) return
    this.connected = connected
    for (const subscription of this.subscriptions) subscription.onState(connected)
  }
}

function parse(text: string): BusMessage | undefined {
  try {
    const value = JSON.parse(text) as Partial<BusMessage>
    if (
      typeof value.origin === 'string' &&
      Array.isArray(value.tags) &&
      Array.isArray(value.keys) &&
      typeof value.everything === 'boolean'
    ) {
      return value as BusMessage
    }
  } catch {
    // Not ours: ignore.
  }
  return undefined
}
