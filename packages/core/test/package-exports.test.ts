import { execFile } from 'node:child_process'
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
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

  it('never imports an optional peer (ioredis, memjs, @opentelemetry/api, prom-client) from the main entry', () => {
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
    visit(join(packageRoot, 'dist/exports/index.js'))
    expect(seen.size).toBeGreaterThan(10)
    expect([...bare].filter((name) => !name.startsWith('node:'))).toEqual(['decimal.js'])
  })

  it('declares every subpath export with types and code for import and require, all present', () => {
    const pkg = JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8'))
    for (const subpath of [
      '.',
      './redis',
      './memcached',
      './testing',
      './adapter',
      './otel',
      './prometheus',
    ]) {
      for (const condition of ['import', 'require']) {
        const target = pkg.exports[subpath][condition]
        expect(Object.keys(target), `${subpath} ${condition}`).toEqual(['types', 'default'])
        for (const file of Object.values<string>(target)) {
          expect(() => readFileSync(join(packageRoot, file)), `${subpath} ${condition} ${file}`).not.toThrow()
        }
      }
    }
  })

  it('names the optional peer to install when ioredis or memjs is missing', async () => {
    // An application outside the repository that installed @ormcache/core (its dist and
    // package.json, as packed) and its one dependency, but neither optional peer.
    const app = mkdtempSync(join(tmpdir(), 'ormcache-no-peers-'))
    try {
      const installed = join(app, 'node_modules/@ormcache/core')
      mkdirSync(installed, { recursive: true })
      cpSync(join(packageRoot, 'dist'), join(installed, 'dist'), { recursive: true })
      cpSync(join(packageRoot, 'package.json'), join(installed, 'package.json'))
      const decimal = dirname(
        createRequire(join(packageRoot, 'package.json')).resolve('decimal.js/package.json'),
      )
      symlinkSync(decimal, join(app, 'node_modules/decimal.js'), 'dir')
      const attempt = (entry: string, create: string) => `
        const errors = []
        for (const load of [() => import('${entry}'), async () => require('${entry}')]) {
          const store = await load()
          try { store.${create}; errors.push('created') }
          catch (e) { errors.push({ name: e.name, code: e.code, packageName: e.packageName, message: e.message, brand: OrmCacheError.is(e) }) }
        }
        return errors`
      const script = `
        const { createRequire } = require('node:module')
        const { OrmCacheError } = require('@ormcache/core')
        ;(async () => {
          const redis = await (async () => { ${attempt('@ormcache/core/redis', "redisStore({ url: 'redis://127.0.0.1:6379' })")} })()
          const memcached = await (async () => { ${attempt('@ormcache/core/memcached', "memcachedStore({ servers: '127.0.0.1:11211' })")} })()
          const { createCache } = require('@ormcache/core')
          const otel = await (async () => { ${attempt('@ormcache/core/otel', 'instrumentCache(createCache())')} })()
          const prometheus = await (async () => { ${attempt('@ormcache/core/prometheus', 'prometheusMetrics(createCache())')} })()
          console.log(JSON.stringify({ redis, memcached, otel, prometheus }))
        })()`
      writeFileSync(join(app, 'app.cjs'), script)
      const { stdout } = await run(process.execPath, ['app.cjs'], { cwd: app })
      const result = JSON.parse(stdout)
      for (const [store, peer] of [
        ['redis', 'ioredis'],
        ['memcached', 'memjs'],
        ['otel', '@opentelemetry/api'],
        ['prometheus', 'prom-client'],
      ] as const) {
        expect(result[store], store).toHaveLength(2) // through import and through require
        for (const error of result[store]) {
          expect(error).toMatchObject({
            name: 'MissingPeerError',
            code: 'ERR_MISSING_PEER',
            packageName: peer,
            brand: true,
          })
          expect(error.message).toContain(`npm install ${peer}`)
          expect(error.message).toContain(`@ormcache/core/${store}`)
        }
      }
    } finally {
      rmSync(app, { recursive: true, force: true })
    }
  })
})
