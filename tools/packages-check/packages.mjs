import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url))

/** The published packages, with their entry points (`exports` subpaths) as package.json declares them. */
export const PACKAGES = ['core', 'prisma', 'typeorm', 'postgres'].map((folder) => {
  const dir = join(repoRoot, 'packages', folder)
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'))
  const entries = Object.entries(manifest.exports)
    .filter(([, target]) => typeof target === 'object')
    .map(([subpath, target]) => ({
      subpath,
      name: subpath === '.' ? 'index' : subpath.slice(2),
      types: join(dir, target.import.types),
    }))
  return { name: manifest.name, dir, entries }
})
