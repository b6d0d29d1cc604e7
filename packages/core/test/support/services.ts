import { type ChildProcess, spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import net from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { Cluster, Redis, type RedisOptions } from 'ioredis'
import { removeRedisKeysUnder } from './redis-keys.js'

/**
 * Connection settings for the real services the store tests use, from the environment with the
 * local defaults of CONTRIBUTING.md. A missing service fails the test with the service's name
 * and the command that starts it; nothing here skips.
 */
export const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
export const clusterNodes = (
  process.env.REDIS_CLUSTER_NODES ?? '127.0.0.1:7000,127.0.0.1:7001,127.0.0.1:7002'
)
  .split(',')
  .map((node) => node.trim())
export const memcachedServers = (process.env.MEMCACHED_SERVERS ?? '127.0.0.1:11211,127.0.0.1:11212')
  .split(',')
  .map((server) => server.trim())

export function unreachable(service: string, where: string, cause?: unknown): Error {
  const why = cause instanceof Error ? ` (${cause.message})` : ''
  return new Error(`${service} is not reachable at ${where}${why}; run \`npm run services\``)
}

/** A connected ioredis client for REDIS_URL, or a loud failure. */
export async function connectRedis(options: RedisOptions = {}): Promise<Redis> {
  const client = new Redis(redisUrl, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    ...options,
  })
  client.on('error', () => {})
  try {
    await client.connect()
    await client.ping()
    return client
  } catch (error) {
    client.disconnect()
    throw unreachable('Redis', redisUrl, error)
  }
}

/** A connected ioredis Cluster for REDIS_CLUSTER_NODES whose state is ok, or a loud failure. */
export async function connectCluster(): Promise<Cluster> {
  const where = clusterNodes.join(',')
  const client = new Cluster(clusterNodes.map(hostPort), {
    lazyConnect: true,
    enableAutoPipelining: true,
    clusterRetryStrategy: () => null,
    redisOptions: { maxRetriesPerRequest: 0 },
  })
  client.on('error', () => {})
  try {
    await client.connect()
    const info = await client.cluster('INFO')
    if (!String(info).includes('cluster_state:ok')) throw new Error('cluster_state is not ok')
    return client
  } catch (error) {
    client.disconnect()
    throw unreachable('Redis Cluster', where, error)
  }
}

/** Fails loudly unless every memcached server answers "version". */
export async function requireMemcached(servers: readonly string[] = memcachedServers): Promise<void> {
  for (const server of servers) {
    const { host, port } = hostPort(server)
    if (!(await memcachedAnswers(host, port))) throw unreachable('Memcached', server)
  }
}

export const memcachedAnswers = (host: string, port: number) =>
  answers(host, port, 'version\r\n', (reply) => reply.startsWith('VERSION '))

/** PING answers +PONG, or -NOAUTH on a password-protected server: either way it is Redis. */
export const redisAnswers = (host: string, port: number) =>
  answers(host, port, 'PING\r\n', (reply) => reply.startsWith('+PONG') || reply.startsWith('-NOAUTH'))

function answers(host: string, port: number, request: string, accept: (reply: string) => boolean) {
  return new Promise<boolean>((resolve) => {
    const socket = net.connect({ host, port })
    const done = (ok: boolean) => {
      socket.destroy()
      resolve(ok)
    }
    socket.setTimeout(1_000, () => done(false))
    socket.on('error', () => done(false))
    socket.on('connect', () => socket.write(request))
    socket.on('data', (data) => done(accept(data.toString())))
  })
}

/** Asks one memcached server directly (text protocol) whether it holds `key`. */
export function memcachedHas(server: string, key: string): Promise<boolean> {
  const { host, port } = hostPort(server)
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port })
    let reply = ''
    socket.setTimeout(2_000, () => {
      socket.destroy()
      reject(new Error(`memcached ${server} did not answer`))
    })
    socket.on('error', reject)
    socket.on('connect', () => socket.write(`mg ${key} k\r\n`))
    socket.on('data', (data) => {
      reply += data.toString()
      if (!reply.endsWith('\r\n')) return
      socket.destroy()
      resolve(reply.startsWith('HD') || reply.startsWith('VA'))
    })
  })
}

export function hostPort(entry: string): { host: string; port: number } {
  const at = entry.lastIndexOf(':')
  return { host: entry.slice(0, at), port: Number(entry.slice(at + 1)) }
}

/** A port nobody listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo
      server.close(() => resolve(port))
    })
  })
}

/** A server process this test owns: started in the foreground so it can be killed by its pid. */
export interface OwnedServer {
  port: number
  process: ChildProcess
  stop(): Promise<void>
}

/**
 * Starts `command` (which must listen on `port`) and waits until `ready()` answers. Used for
 * throwaway servers: a password-protected Redis, a memcached node the test kills.
 */
export async function startServer(
  command: string,
  args: readonly string[],
  port: number,
  ready: () => Promise<boolean>,
): Promise<OwnedServer> {
  const child = spawn(command, args, { stdio: 'ignore' })
  const failed = new Promise<never>((_, reject) => {
    child.once('error', (error) =>
      reject(new Error(`cannot start ${command}: ${error.message}; run \`npm run services\``)),
    )
    child.once('exit', (code) => reject(new Error(`${command} exited with ${code} before it was ready`)))
  })
  failed.catch(() => {})
  const deadline = Date.now() + 10_000
  while (!(await Promise.race([ready(), failed]))) {
    if (Date.now() > deadline) {
      child.kill('SIGKILL')
      throw new Error(`${command} did not become ready on port ${port}`)
    }
    await sleep(50)
  }
  return {
    port,
    process: child,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve()
        child.once('exit', () => resolve())
        child.kill('SIGTERM')
      }),
  }
}

/** A redis-server of the calling test's own on a free port, without persistence; the caller stops it. */
export async function startOwnRedis(): Promise<{ server: OwnedServer; url: string }> {
  const port = await freePort()
  const server = await startServer(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    port,
    () => redisAnswers('127.0.0.1', port),
  )
  return { server, url: `redis://127.0.0.1:${port}` }
}

/** SIGSTOP, then wait until /proc says the process is stopped (state T), bounded to 2 s. */
export async function stopProcess(pid: number): Promise<void> {
  process.kill(pid, 'SIGSTOP')
  const deadline = Date.now() + 2_000
  while (Date.now() < deadline) {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('T')) return
    await new Promise((resolve) => setTimeout(resolve, 1))
  }
  throw new Error(`process ${pid} did not stop within 2 s of SIGSTOP`)
}

/** Removes every key under `prefix` from the shared Redis and the Redis Cluster (redis-keys.ts). */
export async function removeKeysUnder(prefix: string): Promise<void> {
  await removeRedisKeysUnder([prefix])
}
