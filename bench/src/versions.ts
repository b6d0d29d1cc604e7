import { existsSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'

const require = createRequire(import.meta.url)

/** Installed versions of the compared libraries, read from their package.json files. */
export function installedVersions(names: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {}
  for (const name of names) out[name] = versionOf(name)
  return out
}

function versionOf(name: string): string {
  // Not require.resolve(`${name}/package.json`): some packages' export maps hide it.
  for (const dir of require.resolve.paths(name) ?? []) {
    const file = join(dir, name, 'package.json')
    if (existsSync(file)) return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version
  }
  return 'not installed'
}
