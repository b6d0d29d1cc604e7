import { execFile } from 'node:child_process'
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'

const run = promisify(execFile)
const here = dirname(fileURLToPath(import.meta.url))
const packageRoot = resolve(here, '..')
const consumers = join(here, 'consumers')

/** These tests run against the built package (dist), exactly as users install it. */
describe('published package', () => {
  it('loads through require() from a CommonJS file', async () => {
    const { stdout } = await run(process.execPath, [join(consumers, 'consumer.cjs')], { cwd: consumers })
    expect(JSON.parse(stdout)).toEqual({
      createCache: 'function',
      runStoreContract: 'function',
      roundTrip: true,
      errorBrand: true,
    })
  })

  it('loads through import, and require() and import share one module instance', async () => {
    const { stdout } = await run(process.execPath, [join(consumers, 'consumer.mjs')], { cwd: consumers })
    expect(JSON.parse(stdout)).toEqual({ createCache: 'function', sameInstance: true, roundTrip: true })
  })

  it('type-checks from a CommonJS TypeScript file', async () => {
    const tsc = join(packageRoot, '../../node_modules/typescript/bin/tsc')
    await expect(run(process.execPath, [tsc, '-p', join(consumers, 'tsconfig.json')])).resolves.toBeDefined()
  }, 60_000)

  it('never imports ioredis or memjs from the main entry', () => {
    const seen = new Set<string>()
    const bare = new Set<string>()
    const visit = (file: string) => {
      if (seen.has(file)) return
      seen.add(file)
      const source = readFileSync(file, 'utf8')
      for (const match of source.matchAll(/(?:from|import)\s*\(?\s*['"]([^'"]+)['"]/g)) {
        const specifier = match[1]!
        if (specifier.startsWith('.')) visit(resolve(dirname(file), specifier))
        else bare.add(specifier.split('/')[0]!)
      }
    }
    visit(join(packageRoot, 'dist/index.js'))
    expect(seen.size).toBeGreaterThan(10)
    expect([...bare].filter((name) => !name.startsWith('node:'))).toEqual(['decimal.js'])
  })

  it('declares every subpath export with types and code for import and require, all present', () => {
    const pkg = JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8'))
    for (const subpath of ['.', './redis', './memcached', './testing']) {
      for (const condition of ['import', 'require']) {
        const target = pkg.exports[subpath][condition]
        expect(Object.keys(target), `${subpath} ${condition}`).toEqual(['types', 'default'])
        for (const file of Object.values<string>(target)) {
          expect(() => readFileSync(join(packageRoot, file)), `${subpath} ${condition} ${file}`).not.toThrow()
        }
      }
    }
  })
})
