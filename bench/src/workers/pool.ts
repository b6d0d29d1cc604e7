import { type ChildProcess, fork } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { FromWorker, ToWorker } from './protocol.js'

const WORKER = join(dirname(fileURLToPath(import.meta.url)), 'stampede-worker.ts')

/**
 * Worker processes that run TypeScript through tsx like the parent, with the parent's key
 * prefix in their environment. Each request waits for every worker's reply; a worker that
 * fails or exits rejects it.
 */
export class WorkerPool {
  private constructor(private readonly workers: ChildProcess[]) {}

  static async start(count: number, prefix: string): Promise<WorkerPool> {
    const workers = Array.from({ length: count }, () =>
      fork(WORKER, [], {
        execArgv: ['--import', 'tsx'],
        env: { ...process.env, ORMCACHE_BENCH_PREFIX: prefix },
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      }),
    )
    // A dead worker's channel emits 'error' on send; requests to it reject through 'exit' below.
    for (const worker of workers) worker.on('error', () => {})
    return new WorkerPool(workers)
  }

  /** Sends `message` to every worker and resolves with their replies, in worker order. */
  all(message: ToWorker | ((index: number) => ToWorker), timeoutMs = 60_000): Promise<FromWorker[]> {
    return Promise.all(
      this.workers.map((worker, index) => {
        const m = typeof message === 'function' ? message(index) : message
        return new Promise<FromWorker>((resolve, reject) => {
          const timer = setTimeout(() => {
            cleanup()
            reject(new Error(`worker ${index} did not answer "${m.type}" within ${timeoutMs} ms`))
          }, timeoutMs)
          const onMessage = (reply: FromWorker) => {
            cleanup()
            if (reply.type === 'failed') reject(new Error(`worker ${index}: ${reply.error}`))
            else resolve(reply)
          }
          const onExit = (code: number | null) => {
            cleanup()
            reject(new Error(`worker ${index} exited (${code}) during "${m.type}"`))
          }
          const cleanup = () => {
            clearTimeout(timer)
            worker.off('message', onMessage)
            worker.off('exit', onExit)
          }
          if (!worker.connected) {
            cleanup()
            reject(new Error(`worker ${index} has exited`))
            return
          }
          worker.on('message', onMessage)
          worker.once('exit', onExit)
          worker.send(m)
        })
      }),
    )
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.workers.map(
        (worker) =>
          new Promise<void>((resolve) => {
            if (worker.exitCode !== null || worker.signalCode !== null) return resolve()
            const timer = setTimeout(() => worker.kill('SIGKILL'), 5_000)
            worker.once('exit', () => {
              clearTimeout(timer)
              resolve()
            })
            worker.send({ type: 'exit' } satisfies ToWorker)
          }),
      ),
    )
  }
}
