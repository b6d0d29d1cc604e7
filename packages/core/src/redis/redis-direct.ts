import type { Cluster, Redis } from 'ioredis'
import { loadPeer } from '../store/peer.js'

type CommandClass = typeof import('ioredis').Command
let commandClass: CommandClass | undefined

/**
 * Writes one command to a single node's connection now, past ioredis's auto-pipelining, and
 * resolves with its utf8 reply. With `enableAutoPipelining` (our default) a command method queues
 * its command until a setImmediate and then sends it through a Pipeline object built for that
 * batch: an event-loop turn of latency and a Pipeline's allocations per batch. Our commands are
 * already batched where it matters (the hit reads per tick, redis-hit-batch.ts) and the socket is
 * corked until the tick ends (redis-cork.ts), so commands issued in one tick still leave in one
 * write; auto-pipelining only added its cost. The command is the one the method would build:
 * same name, arguments, key prefix and reply encoding. Replies still come back in order on the
 * connection, and nothing relies on an order between concurrent operations' commands.
 */
export function sendNow(client: Redis, name: string, args: readonly (string | number)[]): Promise<unknown> {
  commandClass ??= loadPeer<typeof import('ioredis')>('ioredis', '@ormcache/core/redis').Command
  const command = new commandClass(name, args as (string | number)[], {
    keyPrefix: client.options.keyPrefix,
    replyEncoding: 'utf8',
  })
  client.sendCommand(command)
  return command.promise
}

/** A Cluster routes each command by slot itself: it keeps the command methods. */
export function isSingleNode(client: Redis | Cluster): client is Redis {
  return (client as { isCluster?: boolean }).isCluster !== true
}
