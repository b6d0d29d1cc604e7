import { createRequire } from 'node:module'
import { MissingPeerError } from '../errors.js'

const require = createRequire(import.meta.url)

/**
 * Loads an optional peer (`ioredis`, `memjs`, both CommonJS) at the moment a store first needs it,
 * so importing a store's entry point never fails, and a missing peer surfaces as a
 * `MissingPeerError` that names the package to install, not as a module-resolution error from deep
 * inside this package. Resolution starts here, as a static import's would.
 */
export function loadPeer<T>(packageName: string, feature: string): T {
  try {
    return require(packageName) as T
  } catch (error) {
    if (isNotFound(error, packageName)) throw new MissingPeerError(packageName, feature, { cause: error })
    throw error
  }
}

/** Not found itself; a module missing inside an installed peer is a different fault and rethrown. */
function isNotFound(error: unknown, packageName: string): boolean {
  if (typeof error !== 'object' || error === null) return false
  const { code, message } = error as { code?: unknown; message?: unknown }
  return code === 'MODULE_NOT_FOUND' && typeof message === 'string' && message.includes(`'${packageName}'`)
}
