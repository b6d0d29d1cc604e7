// Where this script keeps what it started (pid files, cluster config), so `down` stops only that.
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'

const root = process.env.ORMCACHE_SERVICES_DIR ?? '/tmp/ormcache-services'

/** A directory under the state root, created on first use. */
export function stateDir(...parts) {
  const dir = join(root, ...parts)
  mkdirSync(dir, { recursive: true })
  return dir
}
