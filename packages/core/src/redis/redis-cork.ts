import type { Cluster, Redis } from 'ioredis'
import { isSingleNode } from './redis-direct.js'

/** The part of a socket corking needs. */
interface Corkable {
  cork(): void
  uncork(): void
  readonly writableCorked: number
}

/**
 * Holds the connection's writes until this turn of the event loop reaches its immediates, then
 * sends them in one socket write. On a loopback connection each write is a system call that also
 * wakes the Redis server, and on this kind of host that wake-up, not the bytes, is the cost: in
 * an ORM workload with 16 callers one write per operation was 30 % of the process's CPU and most
 * of Redis's. Callers resume in separate callbacks (one per reply batch, one per setImmediate),
 * so holding only until the tick ended still sent about one write per operation; holding until
 * the immediates lets every operation that issues commands in this turn share one write, as
 * ioredis's auto-pipelining does, without its Pipeline object per batch.
 *
 * The delay is bounded by the turn: a command issued in a callback of the poll phase leaves in
 * the check phase of the same turn, one issued from an immediate leaves in the next turn's check
 * phase, right after its poll (which does not block while an immediate is queued). Order on the
 * connection is the order of the calls, as before.
 *
 * Only a single node with a connected socket is corked (a Cluster has a socket per node, and an
 * offline client queues commands itself); a socket someone else corked is left to them.
 */
export function corkUntilImmediates(client: Redis | Cluster): void {
  if (client.status !== 'ready' || !isSingleNode(client)) return
  const stream = (client as unknown as { stream?: Corkable }).stream
  if (stream === undefined || typeof stream.cork !== 'function' || stream.writableCorked > 0) return
  stream.cork()
  setImmediate(uncork, stream)
}

function uncork(stream: Corkable): void {
  stream.uncork()
}
