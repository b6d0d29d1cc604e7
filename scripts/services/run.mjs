// Runs a command to completion and returns its output; throws with the output when it fails.
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'

export function run(command, args, { allowFailure = false, timeoutMs = 300_000 } = {}) {
  const result = spawnSync(command, args, { encoding: 'utf8', timeout: timeoutMs })
  const output = `${result.stdout ?? ''}${result.stderr ?? ''}`.trim()
  const ok = result.status === 0 && result.error === undefined
  if (!ok && !allowFailure) {
    const why = result.error ? result.error.message : `exit ${result.status ?? result.signal}`
    throw new Error(`\`${[command, ...args].join(' ')}\` failed (${why})${output ? `:\n${output}` : ''}`)
  }
  return { ok, output }
}

/** True if `name` is an executable on PATH (or an absolute path that exists). */
export function hasBinary(name) {
  if (name.startsWith('/')) return existsSync(name)
  return run('sh', ['-c', `command -v ${name}`], { allowFailure: true }).ok
}

/**
 * apt-get install, running apt-get update first only if the plain install fails (a fresh
 * machine may have no package lists yet). Returns a phrase for the report line.
 */
export function aptInstall(pkg) {
  if (run('apt-get', ['install', '-y', '-q', pkg], { allowFailure: true }).ok) return `installed ${pkg}`
  run('apt-get', ['update', '-q'])
  run('apt-get', ['install', '-y', '-q', pkg])
  return `installed ${pkg} (after apt-get update)`
}

export const isRoot = () => typeof process.getuid === 'function' && process.getuid() === 0

/** The pid in `file` if that process is alive and its command line mentions `binary`. */
export function livePid(file, binary) {
  if (!existsSync(file)) return undefined
  const pid = Number(readFileSync(file, 'utf8').trim())
  if (!Number.isInteger(pid) || pid <= 0) return undefined
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8')
    return cmdline.includes(binary) ? pid : undefined
  } catch {
    return undefined
  }
}

/** { port: 7000, save: '' } → ['--port', '7000', '--save', '']; an array value adds several words. */
export function flags(options) {
  return Object.entries(options).flatMap(([name, value]) => [`--${name}`, ...[value].flat().map(String)])
}
