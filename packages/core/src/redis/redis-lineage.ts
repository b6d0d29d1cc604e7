import type { Redis } from 'ioredis'
import { sendNow } from './redis-direct.js'

/**
 * The run id of the Redis server a single-node client is connected to: random, new on every
 * server start, and different on a replica than on its master, so it changes whenever the data
 * set may have lost writes (restart from RDB/AOF, promotion of a replica). See `CacheStore.lineage`.
 *
 * It is forgotten on every lost connection and learned again with INFO on the next one. Every
 * reply from a new server travels on a connection opened after the old one closed, so by the
 * time such a reply is judged the old id is gone: it is judged against the new id or none.
 */
export class RedisLineage {
  private id: string | undefined
  /** Moves on every lost connection; an INFO reply counts only for the connection it was sent on. */
  private connection = 0
  private waiters: (() => void)[] = []
  /** The connection whose INFO is on its way (or answered); -1 when none is. */
  private asked = -1

  constructor(private readonly client: Redis) {
    client.on('close', () => this.forget())
    client.on('end', () => this.forget())
    // INFO may travel during the handshake (ioredis lets it through before 'ready'), so it goes
    // out together with the handshake's own commands instead of one round trip after them: a
    // fresh process's first lookup waits for the id, and on a busy host each trip is ms.
    client.on('connect', () => this.learn())
    // A client handed to us mid-handshake, or a handshake INFO that failed: ask once ready.
    client.on('ready', () => {
      if (this.id === undefined && this.asked !== this.connection) this.learn()
    })
    if (client.status === 'ready') this.learn()
  }

  current(): string | undefined {
    return this.id
  }

  /** Resolves once the id of the current connection's server is known, or the connection is lost. */
  known(): Promise<void> {
    if (this.id !== undefined) return Promise.resolve()
    return new Promise((resolve) => this.waiters.push(resolve))
  }

  private forget(): void {
    this.connection += 1
    this.id = undefined
    // A connection that failed will not tell us: waiters go on and fail fast with its cause.
    const waiters = this.waiters
    this.waiters = []
    for (const wake of waiters) wake()
  }

  /**
   * Sent with sendNow, not `info()`: auto-pipelining would queue it behind the commands
   * ioredis flushes right after 'ready', and their replies would arrive before the id is known.
   */
  private learn(): void {
    const connection = this.connection
    this.asked = connection
    ;(sendNow(this.client, 'info', ['server']) as Promise<string>).then(
      (text) => {
        if (connection !== this.connection) return
        // 40 hex digits of randomness; 16 are plenty to tell servers apart and keep entries short.
        const match = /run_id:([0-9a-f]{16})/.exec(text)
        this.id = match?.[1]
        if (this.id === undefined) return
        const waiters = this.waiters
        this.waiters = []
        for (const wake of waiters) wake()
      },
      () => {
        if (this.asked === connection) this.asked = -1
      },
    )
  }
}
