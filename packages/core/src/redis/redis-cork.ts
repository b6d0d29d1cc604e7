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
  hold(client)
}

/**
 * Runs `send` right before the held writes leave (corking the connection if nobody has yet), so
 * what it sends joins this turn's one write: the hit batch (redis-hit-batch.ts) gathers every
 * hit read of the turn this way instead of one batch per tick, at no extra delay, since the
 * write would not leave earlier. Where nothing can be held (a Cluster, a client that is not
 * ready, a socket someone else corked) it runs at the end of the tick.
 */
export function sendBeforeRelease(client: Redis | Cluster, send: () => void, alone = false): void {
  const held = hold(client, alone && idle(client))
  if (held === undefined) process.nextTick(send)
  else held.before.push(send)
}

/**
 * Whether the connection awaits no reply. A caller that expects to be alone (`alone` above: the
 * last hit batch had one reader) then sends at the end of the tick instead of a check phase
 * later: no reply of this connection can resume another caller in between, and waiting for the
 * immediates was ~10 µs of a one-caller hit (the bare client's write costs about what ours then
 * does). With more callers the hold lasts until the immediates, as they resume one reply batch
 * or one immediate at a time, and sending at the tick's end doubled the socket writes per hit.
 */
function idle(client: Redis | Cluster): boolean {
  return (client as unknown as { commandQueue?: { length: number } }).commandQueue?.length === 0
}

/** A connection held by us this turn, and what is to be sent just before it is released. */
interface Held {
  stream: Corkable
  before: (() => void)[]
}

const holding = new WeakMap<Corkable, Held>()

function hold(client: Redis | Cluster, untilTickEnd = false): Held | undefined {
  if (client.status !== 'ready' || !isSingleNode(client)) return undefined
  const stream = (client as unknown as { stream?: Corkable }).stream
  if (stream === undefined || typeof stream.cork !== 'function') return undefined
  const held = holding.get(stream)
  if (held !== undefined) return held
  if (stream.writableCorked > 0) return undefined
  stream.cork()
  const made: Held = { stream, before: [] }
  holding.set(stream, made)
  if (untilTickEnd) process.nextTick(release, made)
  else setImmediate(release, made)
  return made
}

function release(held: Held): void {
  // Forgotten first: a send below that holds again finds the socket corked (by us, still) and
  // leaves its bytes to this release.
  holding.delete(held.stream)
  // Every send runs and the socket is released whatever one of them throws (none is meant to:
  // each answers its own readers with its errors); the first error then surfaces as it would
  // have from a tick callback of its own.
  let thrown: { error: unknown } | undefined
  for (const send of held.before) {
    try {
      send()
    } catch (error) {
      thrown ??= { error }
    }
  }
  held.stream.uncork()
  if (thrown !== undefined) throw thrown.error
}
