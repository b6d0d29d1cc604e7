import { execFile } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { beforeAll, describe, expect, it } from 'vitest'

const run = promisify(execFile)
const packageRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..')

/** Against the built package (dist), as users install it: `npm run build` runs before `npm test`. */
describe('published package', () => {
  beforeAll(() => {
    if (!existsSync(join(packageRoot, 'dist/index.js'))) {
      throw new Error('dist/ is missing: run `npm run build -w @ormcache/prisma` (npm test does it first)')
    }
  })

  it('loads through require() and import, sharing one module instance', async () => {
    const { stdout } = await run(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `import { createRequire } from 'node:module'
         import * as esm from '@ormcache/prisma'
         const cjs = createRequire(import.meta.url)('@ormcache/prisma')
         console.log(JSON.stringify({ type: typeof cjs.cacheExtension, same: cjs.cacheExtension === esm.cacheExtension }))`,
      ],
      { cwd: packageRoot },
    )
    expect(JSON.parse(stdout)).toEqual({ type: 'function', same: true })
  })

  it('imports nothing but the core, the Prisma runtime and Node built-ins', () => {
    const seen = new Set<string>()
    const bare = new Set<string>()
    const visit = (file: string) => {
      if (seen.has(file)) return
      seen.add(file)
      for (const match of readFileSync(file, 'utf8').matchAll(/(?:from|import)\s*\(?\s*['"]([^'"]+)['"]/g)) {
        const specifier = match[1]!
        if (specifier.startsWith('.')) visit(resolve(dirname(file), specifier))
        else bare.add(specifier)
      }
    }
    visit(join(packageRoot, 'dist/index.js'))
    expect([...bare].filter((name) => !name.startsWith('node:')).sort()).toEqual([
      '@ormcache/core',
      '@ormcache/core/adapter',
      '@prisma/client/runtime/client',
    ])
  })

  it('declares types, import and require targets that exist', () => {
    const pkg = JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8'))
    for (const condition of ['import', 'require']) {
      for (const file of Object.values<string>(pkg.exports['.'][condition])) {
        expect(existsSync(join(packageRoot, file)), `${condition} ${file}`).toBe(true)
      }
    }
  })
})
