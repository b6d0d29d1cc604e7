import crypto from 'node:crypto'
import net from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type MemcachedStore, memcachedStore } from '../src/exports/memcached.js'
import {
  freePort,
  memcachedAnswers,
  memcachedServers,
  type OwnedServer,
  requireMemcached,
  startServer,
  stopProcess,
  unreachable,
} from './support/services.js'

/**
 * The binary multi-get (GETKQ … NOOP, one write per server for every read of a tick) on real
 * servers: the two shared ones plus a third this file starts, so it can pause and kill it.
 */

async function startMemcached(): Promise<OwnedServer> {
  const port = await freePort()
  const root = process.getuid?.() === 0 ? ['-u', 'root'] : []
  return startServer('memcached', [...root, '-l', '127.0.0.1', '-p', String(port), '-U', '0'], port, () =>
    memcachedAnswers('127.0.0.1', port),
  ).catch((error: unknown) => {
    throw unreachable('memcached (binary, for a third test server)', `127.0.0.1:${port}`, error)
  })
}

/** Counts the socket writes sent to each port while `run` runs (a spy on every net.Socket). */
async function countWrites<T>(ports: readonly number[], run: () => Promise<T>) {
  const writes = new Map<number, number>(ports.map((port) => [port, 0]))
  const original = net.Socket.prototype.write
  net.Socket.prototype.write = function (this: net.Socket, ...args: unknown[]) {
    const port = this.remotePort
    if (port !== undefined && writes.has(port)) writes.set(port, writes.get(port)! + 1)
    return (original as (...a: unknown[]) => boolean).apply(this, args)
  } as typeof original
  try {
    const result = await run()
    return { result, writes }
  } finally {
    net.Socket.prototype.write = original
  }
}

const portOf = (server: string) => Number(server.slice(server.lastIndexOf(':') + 1))

describe('memcached multi-get over 3 servers', () => {
  let spare: OwnedServer
  let servers: string[]
  let store: MemcachedStore
  const run = crypto.randomBytes(4).toString('hex')
  const key = (name: string) => `mg:${run}:${name}`

  beforeAll(async () => {
    await requireMemcached()
    spare = await startMemcached()
    servers = [...memcachedServers, `127.0.0.1:${spare.port}`]
    store = memcachedStore({ servers, timeout: 1 })
  })
  afterAll(async () => {
    await store?.close()
    await spare?.stop()
  })

  it('returns hits and misses in the order asked, with duplicates, from every server', async () => {
    const keys = Array.from({ length: 90 }, (_, i) => key(`mixed:${i}`))
    const stored = keys.filter((_, i) => i % 3 !== 0)
    await store.setMany(stored.map((k) => ({ key: k, value: `v:${k}` })))
    for (const server of servers) expect(keys.some((k) => store.serverFor(k) === server)).toBe(true)

    const asked = [...keys].reverse()
    asked.splice(10, 0, keys[1]!, keys[0]!, keys[1]!)
    const expected = asked.map((k) => (stored.includes(k) ? `v:${k}` : undefined))
    expect(await store.getMany(asked)).toEqual(expected)
  })

  it('sends the reads of one tick as one write per server, each caller getting its own keys', async () => {
    const keys = Array.from({ length: 64 }, (_, i) => key(`tick:${i}`))
    await store.setMany(keys.map((k) => ({ key: k, value: `t:${k}` })))
    await store.getMany(keys) // connections open before counting
    const shared = key('tick:shared')
    await store.set(shared, 'shared')

    const { result, writes } = await countWrites(servers.map(portOf), () =>
      Promise.all(keys.map((k, i) => store.getMany(i % 2 === 0 ? [k, shared] : [shared, k, key('absent')]))),
    )
    expect(result).toEqual(
      keys.map((k, i) => (i % 2 === 0 ? [`t:${k}`, 'shared'] : ['shared', `t:${k}`, undefined])),
    )
    // 64 callers, 3 servers: one GETKQ … NOOP packet to each server, not one per caller.
    expect([...writes.values()]).toEqual([1, 1, 1])
  })

  it('resolves a batch in which every key is a quiet miss (only the NOOP answers)', async () => {
    const absent = Array.from({ length: 50 }, (_, i) => key(`absent:${i}`))
    const { result, writes } = await countWrites(servers.map(portOf), () =>
      Promise.all([store.getMany(absent), store.getMany(absent.slice(0, 7)), store.getMany([absent[3]!])]),
    )
    expect(result).toEqual([absent.map(() => undefined), Array(7).fill(undefined), [undefined]])
    expect([...writes.values()].reduce((a, b) => a + b)).toBeLessThanOrEqual(3)
  })

  it('reassembles large values that arrive over many TCP chunks, batches overlapping in flight', async () => {
    const big = Array.from({ length: 6 }, (_, i) => key(`big:${i}`))
    const value = (k: string, size: number) =>
      crypto
        .createHash('sha256')
        .update(k)
        .digest('hex')
        .repeat(size / 64)
    const sizes = [900_000, 300_000, 650_000, 64, 1_000_000 - 1024, 128_000]
    await store.setMany(big.map((k, i) => ({ key: k, value: value(k, sizes[i]!) })))
    const small = key('big:small')
    await store.set(small, 'small')

    const first = store.getMany([...big, small, key('big:absent')])
    // Next tick: a second batch goes out on the same connections while the first is still arriving.
    await new Promise((resolve) => setImmediate(resolve))
    const second = store.getMany([small, big[4]!, big[0]!])
    expect(await first).toEqual([...big.map((k, i) => value(k, sizes[i]!)), 'small', undefined])
    expect(await second).toEqual(['small', value(big[4]!, sizes[4]!), value(big[0]!, sizes[0]!)])
  })

  it('a server that stops answering mid-batch fails only the callers with keys on it', async () => {
    const paused = memcachedStore({ servers, timeout: 0.3 })
    try {
      const keys = Array.from({ length: 60 }, (_, i) => key(`down:${i}`))
      await paused.setMany(keys.map((k) => ({ key: k, value: `d:${k}` })))
      const dead = servers[2]!
      const onDead = keys.filter((k) => paused.serverFor(k) === dead)
      const onLive = keys.filter((k) => paused.serverFor(k) !== dead)
      expect(await paused.getMany(onDead)).toEqual(onDead.map((k) => `d:${k}`))

      // The batch is written, then the server freezes before it can answer. The signal is
      // delivered asynchronously, so wait until the kernel reports the process stopped.
      await stopProcess(spare.process.pid!)
      try {
        const [mixed, live, deadOnly] = await Promise.allSettled([
          paused.getMany([onLive[0]!, onDead[0]!, onLive[1]!]),
          paused.getMany(onLive),
          paused.getMany(onDead.slice(0, 2)),
        ])
        expect(mixed.status).toBe('rejected')
        expect(deadOnly.status).toBe('rejected')
        expect(live).toEqual({ status: 'fulfilled', value: onLive.map((k) => `d:${k}`) })
      } finally {
        spare.process.kill('SIGCONT')
      }
      // The connection that timed out is replaced: the same server answers again afterwards.
      expect(await paused.getMany(onDead)).toEqual(onDead.map((k) => `d:${k}`))

      // Killed while a batch is waiting for its replies: that batch fails, the next ones fail at
      // once (connection refused), and the live servers keep serving.
      await stopProcess(spare.process.pid!)
      const inFlight = paused.getMany(onDead)
      await new Promise((resolve) => setTimeout(resolve, 50))
      spare.process.kill('SIGKILL')
      await expect(inFlight).rejects.toThrow()
      await expect(paused.getMany([onDead[0]!, onLive[0]!])).rejects.toThrow()
      expect(await paused.getMany(onLive)).toEqual(onLive.map((k) => `d:${k}`))
    } finally {
      await paused.close()
    }
  })
})
