import { existsSync } from 'node:fs'
import { type Browser, chromium } from 'playwright-core'

/** Debian's chromium, installed by `npm run services` (scripts/services/chromium.mjs). */
export const CHROMIUM = process.env.ORMCACHE_CHROMIUM_PATH ?? '/usr/bin/chromium'

/**
 * Launches the system browser headless. playwright-core never downloads a browser of its own;
 * a missing one fails the test with the command that installs it.
 */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium is not installed at ${CHROMIUM}; run \`npm run services\` (it installs Debian's chromium)`,
    )
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-dev-shm-usage',
    ],
  })
}
