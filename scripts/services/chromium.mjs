// The headless browser the demo's dashboard test drives through playwright-core. It comes from
// Debian's `chromium` package, never from a tool's own browser download (this workplace cannot
// fetch those, and CI must not depend on one). Part of the default set: `npm test` runs the
// dashboard test, so `npm run services` (the root pretest) has to provide the browser.
import { spawnSync } from 'node:child_process'
import { aptInstall, hasBinary } from './run.mjs'

export const CHROMIUM = process.env.ORMCACHE_CHROMIUM_PATH ?? '/usr/bin/chromium'

/**
 * The browser's version line if it starts, undefined otherwise (a half-installed package fails
 * here). Only stdout counts: Debian's launcher script prints shell noise on stderr on some hosts.
 */
function version() {
  if (!hasBinary(CHROMIUM)) return undefined
  const result = spawnSync(CHROMIUM, ['--headless', '--no-sandbox', '--version'], {
    encoding: 'utf8',
    timeout: 30_000,
  })
  const line = result.stdout?.trim()
  return result.status === 0 && line ? line : undefined
}

export const chromium = {
  name: 'chromium',
  address: CHROMIUM,
  check: async () => version() !== undefined,
  async up() {
    const before = version()
    if (before !== undefined) return `already installed (${before})`
    const installed = aptInstall('chromium')
    const after = version()
    if (after === undefined) throw new Error(`${installed}, but \`${CHROMIUM} --version\` still fails`)
    return `${installed} (${after})`
  },
}
