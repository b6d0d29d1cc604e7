import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

/**
 * apps/demo, found by walking up from this module: it runs from src/ under tsx and vitest and
 * from dist/src/ after the build, which sit at different depths.
 */
function findPackageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  for (;;) {
    const manifest = join(dir, 'package.json')
    if (existsSync(manifest) && JSON.parse(readFileSync(manifest, 'utf8')).name === '@ormcache/demo')
      return dir
    const parent = dirname(dir)
    if (parent === dir) throw new Error('cannot find the @ormcache/demo package root')
    dir = parent
  }
}

export const packageRoot = findPackageRoot()

/** Committed files of the demo: sql/, public/, and the default SQLite file under .data/. */
export const demoPath = (...parts: string[]): string => join(packageRoot, ...parts)
