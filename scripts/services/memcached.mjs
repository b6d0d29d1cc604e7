import { rmSync } from 'node:fs'
import { memcachedPing, waitFor } from './probe.mjs'
import { aptInstall, hasBinary, isRoot, livePid, run } from './run.mjs'
import { stateDir } from './state.mjs'

/** Two daemons, so the store's consistent hash ring is exercised across servers. */
const PORTS = [11211, 11212]
const pidFile = (port) => `${stateDir()}/memcached-${port}.pid`

export const memcached = {
  name: 'memcached',
  address: PORTS.map((p) => `127.0.0.1:${p}`).join(', '),
  check: async () => (await Promise.all(PORTS.map((p) => memcachedPing(p)))).every(Boolean),
  async up() {
    const down = []
    for (const port of PORTS) if (!(await memcachedPing(port))) down.push(port)
    if (down.length === 0) return 'already running'
    const notes = []
    if (!hasBinary('memcached')) notes.push(aptInstall('memcached'))
    for (const port of down) {
      const user = isRoot() ? ['-u', 'root'] : []
      run('memcached', ['-d', ...user, '-l', '127.0.0.1', '-p', String(port), '-P', pidFile(port)])
      if (!(await waitFor(() => memcachedPing(port), 10_000))) {
        throw new Error(`127.0.0.1:${port} did not answer "version" within 10 s`)
      }
    }
    notes.push(`started ${down.map((p) => `:${p}`).join(', ')}`)
    return notes.join('; ')
  },
  async down() {
    const stopped = []
    for (const port of PORTS) {
      const pid = livePid(pidFile(port), 'memcached')
      if (pid === undefined) continue
      process.kill(pid, 'SIGTERM')
      if (!(await waitFor(async () => !(await memcachedPing(port)), 10_000))) {
        throw new Error(`memcached on :${port} (pid ${pid}) did not stop`)
      }
      rmSync(pidFile(port), { force: true })
      stopped.push(`:${port}`)
    }
    return stopped.length > 0 ? `stopped ${stopped.join(', ')}` : 'nothing started by this script'
  },
}
