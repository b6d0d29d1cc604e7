import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'

const run = promisify(execFile)
const consumers = fileURLToPath(new URL('./consumers/', import.meta.url))

/** Runs against the built package (dist), exactly as users install it. */
describe('published package', () => {
  it('loads and works through require() from a CommonJS application', async () => {
    const { stdout } = await run(process.execPath, ['consumer.cjs'], { cwd: consumers })
    expect(JSON.parse(stdout)).toEqual({ typeormCache: 'function', hits: 1, fresh: true })
  })
})
