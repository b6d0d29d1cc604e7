import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'

/**
 * Cache servers this run owns: started on free ports, faulted (SIGKILL, SIGSTOP) and stopped by
 * their own pid only. The shared services (Redis 6379, the Memcached of `npm run services`) are
 * never touched.
 */
export interface OwnedServer {
  readonly name: string
  readonly port: number
  /** SIGKILL: the process is gone, connections are refused. */
  kill(): Promise<void>
  /** Starts it again on the same port (Redis reloads its append-only file). */
  restart(): Promise<void>
  /** SIGSTOP: the process hangs, connections stay open and nothing answers. */
  pause(): void
  /** SIGCONT. */
  resume(): void
  stop(): Promise<void>
}

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

function answers(port: number, request: string, accept: (reply: string) => boolean): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port })
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

async function owned(
  name: string,
  command: string,
  args: () => string[],
  port: number,
  ready: () => Promise<boolean>,
  cleanup: () => void = () => {},
): Promise<OwnedServer> {
  let child: ChildProcess | undefined
  const start = async () => {
    const process = spawn(command, args(), { stdio: 'ignore' })
    child = process
    let exited = false
    process.once('exit', () => {
      exited = true
    })
    process.once('error', () => {
      exited = true
    })
    for (let i = 0; i < 200; i++) {
      if (exited) throw new Error(`${command} on port ${port} exited before it was ready`)
      if (await ready()) return
      await sleep(50)
    }
    process.kill('SIGKILL')
    throw new Error(`${command} did not become ready on port ${port}`)
  }
  const exit = async (signal: NodeJS.Signals) => {
    const process = child
    if (process === undefined || process.exitCode !== null || process.signalCode !== null) return
    const gone = new Promise<void>((resolve) => process.once('exit', () => resolve()))
    process.kill('SIGCONT') // a stopped process cannot act on SIGTERM
    process.kill(signal)
    await gone
  }
  await start()
  return {
    name,
    port,
    kill: () => exit('SIGKILL'),
    restart: start,
    pause: () => child?.kill('SIGSTOP'),
    resume: () => child?.kill('SIGCONT'),
    async stop() {
      await exit('SIGTERM')
      cleanup()
    },
  }
}

/** A Redis that logs every write to its append-only file, so a restart brings old entries back. */
export async function ownRedis(): Promise<OwnedServer> {
  const port = await freePort()
  const dir = mkdtempSync(join(tmpdir(), 'ormcache-outage-redis-'))
  return owned(
    `redis:${port}`,
    'redis-server',
    () => [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'yes',
      '--appendfsync',
      'always',
      '--dir',
      dir,
    ],
    port,
    () => answers(port, 'PING\r\n', (reply) => reply.startsWith('+PONG')),
    () => rmSync(dir, { recursive: true, force: true }),
  )
}

export async function ownMemcached(): Promise<OwnedServer> {
  const port = await freePort()
  return owned(
    `memcached:${port}`,
    'memcached',
    () => [
      ...(process.getuid?.() === 0 ? ['-u', 'root'] : []),
      '-p',
      String(port),
      '-l',
      '127.0.0.1',
      '-U',
      '0',
      '-m',
      '32',
    ],
    port,
    () => answers(port, 'version\r\n', (reply) => reply.startsWith('VERSION ')),
  )
}
