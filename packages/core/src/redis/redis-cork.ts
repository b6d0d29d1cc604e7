import type { Cluster, Redis } from 'ioredis'

/** The part of a socket corking needs. */
interface Corkable {
  cork(): void
  uncork(): void
  readonly writableCorked: number
}

/**
 * Holds the connection's writes until the current tick's callbacks and promise jobs have run,
 * then sends them in one socket write. ioredis writes every command to the socket at once, so a
 * hit's GETEX and MGET, or the scripts that concurrent reads send after one batch of replies,
 * each cost a system call of their own; on a busy box those calls were a tenth of the process's
 * CPU. Corking delays nothing past the tick in which the commands were issued, and changes no
 * order: the commands are written in the order they were sent.
 *
 * Only a single node with a connected socket is corked (a Cluster has a socket per node, and an
 * offline client queues commands itself); a socket someone else corked is left to them.
 */
export function corkUntilTickEnd(client: Redis | Cluster): void {
  if (client.status !== 'ready' || (client as { isCluster?: boolean }).isCluster === true) return
  const stream = (client as unknown as { stream?: Corkable }).stream
  if (stream === undefined || typeof stream.cork !== 'function' || stream.writableCorked > 0) return
  stream.cork()
  process.nextTick(uncork, stream)
}

function uncork(stream: Corkable): void {
  stream.uncork()
}
