import { type ChildProcess, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

export interface DemoProcess {
  url: string
  stop(): Promise<void>
}

/**
 * Starts the demo in a child process on a free port (same DATABASE_URL / CACHE_URL as ours), so
 * the load generator and the server do not share one event loop. Resolves once it prints its URL.
 */
export function startDemoProcess(timeoutMs = 60_000): Promise<DemoProcess> {
  const main = fileURLToPath(new URL('../main.js', import.meta.url))
  const fromSource = import.meta.url.endsWith('.ts')
  const args = fromSource ? ['--import', 'tsx', main.replace(/\.js$/, '.ts')] : [main]
  const child = spawn(process.execPath, args, {
    env: demoProcessEnv(process.env),
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  return new Promise((resolve, reject) => {
    let output = ''
    const timer = setTimeout(
      () => fail(new Error(`the demo did not start within ${timeoutMs / 1000} s`)),
      timeoutMs,
    )
    const fail = (error: Error) => {
      clearTimeout(timer)
      child.kill('SIGTERM')
      reject(new Error(`${error.message}\n${output}`))
    }
    const onData = (chunk: Buffer) => {
      output += chunk.toString()
      const match = /ormcache demo\s+(http:\/\/127\.0\.0\.1:\d+)/.exec(output)
      if (match) {
        clearTimeout(timer)
        child.stdout?.off('data', onData)
        resolve({ url: match[1]!, stop: () => stop(child) })
      }
    }
    child.stdout?.on('data', onData)
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString()
    })
    child.once('exit', (code) => fail(new Error(`the demo exited with code ${code} before it was ready`)))
  })
}

/** Cache TTL of the demo started for a load run, unless CACHE_TTL_MS says otherwise. */
export const LOAD_RUN_TTL_MS = 10 * 60_000

/**
 * The started demo's environment: ours, on a free loopback port, with a TTL far longer than the
 * run (the 60 s default expired mid-run and doubled the cache-on rows' query counts), unless the
 * caller chose one.
 */
export function demoProcessEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return { CACHE_TTL_MS: String(LOAD_RUN_TTL_MS), ...env, PORT: '0', HOST: '127.0.0.1' }
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve()
    child.removeAllListeners('exit')
    child.once('exit', () => resolve())
    child.kill('SIGTERM')
  })
}
