/**
 * Carries invalidations between processes so each one's L1 drops what another invalidated.
 * A bus that loses its connection must say so (`onState(false)`): messages sent meanwhile are
 * lost, so L1 is flushed and stays off until the bus is connected again.
 */
export interface BusMessage {
  /** The sending process; receivers skip their own messages. */
  origin: string
  tags: readonly string[]
  /** Store keys deleted with `cache.delete`. */
  keys: readonly string[]
  everything: boolean
}

export interface BusSubscription {
  onMessage(message: BusMessage): void
  /** true once the bus receives messages, false whenever it may be missing some. */
  onState(connected: boolean): void
}

export interface InvalidationBus {
  publish(message: BusMessage): Promise<void>
  /** Resolves to an unsubscribe function once listening (or once a first attempt failed). */
  subscribe(subscription: BusSubscription): Promise<() => void>
  close(): Promise<void>
}

/**
 * An in-process bus: every cache created with the same instance hears the others. Useful for
 * several caches in one process and for tests; processes need a networked bus (Redis).
 */
export function localBus(): InvalidationBus & { disconnect(): void; reconnect(): void } {
  const subscribers = new Set<BusSubscription>()
  let connected = true
  return {
    async publish(message) {
      if (!connected) throw new Error('local bus is disconnected')
      for (const subscriber of subscribers) queueMicrotask(() => subscriber.onMessage(message))
    },
    async subscribe(subscription) {
      subscribers.add(subscription)
      subscription.onState(connected)
      return () => {
        subscribers.delete(subscription)
      }
    },
    async close() {
      subscribers.clear()
    },
    disconnect() {
      connected = false
      for (const subscriber of subscribers) subscriber.onState(false)
    },
    reconnect() {
      connected = true
      for (const subscriber of subscribers) subscriber.onState(true)
    },
  }
}
