import type { Cluster, Redis } from 'ioredis'

/** A subscribed duplicate of a store's client, and how to stop it. */
export interface ChannelSubscriber {
  close(): void
}

/**
 * Subscribes a duplicate of `client` to `channel` (a subscribed connection can do nothing else)
 * and keeps it subscribed across reconnections. `onState(true)` once the subscription is live,
 * `onState(false)` whenever it may be missing messages. A client created with `lazyConnect`
 * hands that option to its duplicate, which would then never connect on its own: it is
 * connected here explicitly.
 */
export function subscribeDuplicate(
  client: Redis | Cluster,
  channel: string,
  onMessage: (message: string) => void,
  onState: (live: boolean) => void,
): ChannelSubscriber {
  // Only SUBSCRIBE travels on it, which Redis answers while it loads: no ready check (an INFO
  // round trip) and no CLIENT SETINFO (a file read and a round trip) before the subscription.
  // A waiter's first wait opens it, and waits until it is live.
  const subscriber = client.isCluster
    ? client.duplicate()
    : (client as Redis).duplicate({ enableReadyCheck: false, disableClientInfo: true })
  let closed = false
  subscriber.on('error', () => {}) // connection trouble shows up as state changes below
  subscriber.on('message', (from: string, message: string) => {
    if (from === channel) onMessage(message)
  })
  const lost = () => {
    if (!closed) onState(false)
  }
  subscriber.on('close', lost)
  subscriber.on('reconnecting', lost)
  subscriber.on('end', lost)
  const listen = () => {
    subscriber.subscribe(channel).then(() => {
      if (!closed) onState(true)
    }, lost)
  }
  // 'ready' fires on the first connection and after every reconnection.
  subscriber.on('ready', listen)
  if (subscriber.status === 'ready') listen()
  else if (subscriber.status === 'wait') subscriber.connect().catch(lost)
  return {
    close() {
      closed = true
      subscriber.disconnect()
    },
  }
}
