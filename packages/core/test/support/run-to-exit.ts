import { spawn } from 'node:child_process'

export interface ChildExit {
  /** False when the child was killed because it outlived its grace period. */
  exited: boolean
  code: number | null
  output: string
}

/**
 * Runs a TypeScript script (through tsx) to its exit. Once it prints its first line (its work
 * is done by then), it has `graceMs` to exit by itself, else it is killed and reported
 * `exited: false`. A child that never prints is stopped after 60 s and fails on its output.
 * Shared by the adapters' shutdown tests, which check that ending the ORM ends the cache.
 */
export function runToExit(
  script: string,
  env: Record<string, string>,
  graceMs: number,
  tsconfig: string,
): Promise<ChildExit> {
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    env: { ...process.env, ...env, TSX_TSCONFIG_PATH: tsconfig },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  let timer: NodeJS.Timeout | undefined
  return new Promise((resolve) => {
    let exited = true
    const giveUp = () => {
      exited = false
      child.kill('SIGKILL')
    }
    timer = setTimeout(giveUp, 60_000)
    child.stdout.on('data', (chunk) => {
      output += chunk
      if (!output.includes('\n')) return
      clearTimeout(timer)
      timer = setTimeout(giveUp, graceMs)
    })
    child.stderr.on('data', (chunk) => {
      output += chunk
    })
    child.on('exit', (code) => {
      clearTimeout(timer)
      // Let the pipes drain.
      setImmediate(() => resolve({ exited, code, output }))
    })
  })
}
