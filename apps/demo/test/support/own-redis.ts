import { type ChildProcess, spawn } from 'node:child_process'
import net from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { answers } from './services.js'

/**
 * A redis-server of this test's own, on a free port, that the test may stop and restart: the
 * shared services must never be killed. Needs the redis-server binary (`npm run services`
 * installs it).
 */
export class OwnRedis {
  private child: ChildProcess | undefined

  private constructor(readonly port: number) {}

  static async start(): Promise<OwnRedis> {
    const redis = new OwnRedis(await freePort())
    await redis.up()
    return redis
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`
  }

  async up(): Promise<void> {
    const child = spawn(
      'redis-server',
      ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      {
        stdio: 'ignore',
      },
    )
    const failed = new Promise<never>((_, reject) => {
      child.once('error', (error) =>
        reject(
          new Error(`cannot start redis-server (${error.message}); run \`npm run services\` to install it`),
        ),
      )
    })
    this.child = child
    // Never outlive the test process, whatever happens to its hooks.
    const reap = () => child.kill('SIGKILL')
    process.once('exit', reap)
    child.once('exit', () => process.off('exit', reap))
    const deadline = Date.now() + 10_000
    while (!(await answers('127.0.0.1', this.port, 'PING\r\n', (r) => r.startsWith('+PONG')))) {
      if (Date.now() > deadline)
        throw new Error(`redis-server on :${this.port} did not answer PING within 10 s`)
      await Promise.race([sleep(50), failed])
    }
  }

  /** Kills the server the way a crash would (no shutdown handshake). */
  async crash(): Promise<void> {
    const child = this.child
    if (child === undefined || child.exitCode !== null) return
    const exited = new Promise((resolve) => child.once('exit', resolve))
    child.kill('SIGKILL')
    await exited
    this.child = undefined
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo
      server.close(() => resolve(port))
    })
  })
}
