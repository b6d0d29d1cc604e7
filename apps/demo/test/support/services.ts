import net from 'node:net'

/**
 * The real services some demo tests run against, from the environment with the defaults of
 * CONTRIBUTING.md. A missing service fails the test with its name and the command that starts
 * it; nothing here skips.
 */
export const postgresUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
export const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
export const clusterNodes = process.env.REDIS_CLUSTER_NODES ?? '127.0.0.1:7000,127.0.0.1:7001,127.0.0.1:7002'
export const memcachedServers = process.env.MEMCACHED_SERVERS ?? '127.0.0.1:11211,127.0.0.1:11212'

/** The demo's own PostgreSQL database on that server (created on demand, never another one). */
export const DEMO_DATABASE = 'ormcache_demo'

export function unreachable(service: string, where: string, cause?: unknown): Error {
  const why = cause instanceof Error ? ` (${cause.message})` : ''
  return new Error(`${service} is not reachable at ${where}${why}; run \`npm run services\``)
}

export async function requireRedis(url = redisUrl): Promise<void> {
  const { hostname, port } = new URL(url)
  if (!(await answers(hostname, Number(port || 6379), 'PING\r\n', (r) => /^(\+PONG|-NOAUTH)/.test(r)))) {
    throw unreachable('Redis', url)
  }
}

export async function requireCluster(nodes = clusterNodes): Promise<void> {
  for (const node of nodes.split(',')) {
    const [host, port] = node.trim().split(':') as [string, string]
    if (!(await answers(host, Number(port), 'CLUSTER INFO\r\n', (r) => r.includes('cluster_state:ok')))) {
      throw unreachable('Redis Cluster', nodes)
    }
  }
}

export async function requireMemcached(servers = memcachedServers): Promise<void> {
  for (const server of servers.split(',')) {
    const [host, port] = server.trim().split(':') as [string, string]
    if (!(await answers(host, Number(port), 'version\r\n', (r) => r.startsWith('VERSION ')))) {
      throw unreachable('Memcached', server)
    }
  }
}

/** Resolves true once the server's reply satisfies `accept`, false on refusal, close or timeout. */
export function answers(
  host: string,
  port: number,
  request: string,
  accept: (reply: string) => boolean,
): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port })
    let reply = ''
    const done = (ok: boolean) => {
      socket.destroy()
      resolve(ok)
    }
    socket.setTimeout(2_000, () => done(false))
    socket.on('error', () => done(false))
    socket.on('connect', () => socket.write(request))
    socket.on('data', (chunk) => {
      reply += chunk.toString()
      if (accept(reply)) done(true)
    })
    socket.on('close', () => done(accept(reply)))
  })
}
