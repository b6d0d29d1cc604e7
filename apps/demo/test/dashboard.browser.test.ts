import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { demoPath } from '../src/paths.js'
import { launchChromium } from './support/browser.js'
import { removeTempDirs, startTestDemo, type TestDemo } from './support/demo.js'

const ARTIFACTS = demoPath('test-results')

let demo: TestDemo
let baseUrl: string
let browser: Browser
let page: Page
const foreignRequests: string[] = []
const pageErrors: string[] = []

beforeAll(async () => {
  demo = await startTestDemo()
  baseUrl = await demo.listen()
  browser = await launchChromium()
  page = await browser.newPage({ viewport: { width: 1400, height: 1500 } })
  page.on('request', (request) => {
    if (!request.url().startsWith(baseUrl)) foreignRequests.push(request.url())
  })
  page.on('pageerror', (error) => pageErrors.push(error.message))
})

afterAll(async () => {
  await browser?.close()
  await demo?.close()
  removeTempDirs()
})

/** Sum of every point of a chart's datasets, read from the live Chart.js objects. */
const chartTotal = (name: string) =>
  page.evaluate((chart) => {
    const charts = (
      window as unknown as {
        ormcacheDashboard: { charts: Record<string, { data: { datasets: { data: (number | null)[] }[] } }> }
      }
    ).ormcacheDashboard.charts
    return charts[chart]!.data.datasets.flatMap((d) => d.data).reduce<number>((sum, v) => sum + (v ?? 0), 0)
  }, name)

it('shows the dashboard with its charts, served entirely by the demo (Chart.js from npm, no CDN)', async () => {
  await page.goto(baseUrl)
  await page.waitForFunction(() => Number(document.body.dataset.polls ?? 0) >= 1)
  expect(await page.textContent('#info')).toContain('sqlite')
  expect(await page.evaluate(() => typeof (window as unknown as { Chart?: unknown }).Chart)).toBe('function')
  expect(await page.locator('canvas').count()).toBe(4)
  expect(await page.locator('.card').count()).toBe(3)
})

it('paints real data first: the page arrives with a snapshot, never "connecting…" and empty cards', async () => {
  const html = await (await fetch(baseUrl)).text()
  expect(html).not.toContain('connecting…')
  const inlined = /<script id="initial-metrics" type="application\/json">(.+?)<\/script>/s.exec(html)
  expect(inlined).not.toBeNull()
  expect(JSON.parse(inlined![1]!).info.database).toContain('sqlite')
  await page.goto(baseUrl)
  // Drawn from the inlined snapshot, before (and whether or not) the first poll answered.
  expect(
    await page.evaluate(
      () =>
        (window as unknown as { ormcacheDashboard: { initialRender?: boolean } }).ormcacheDashboard
          .initialRender,
    ),
  ).toBe(true)
  expect(await page.locator('.card[data-orm="total"] dd[data-field="requests"]').count()).toBe(1)
})

it('labels every tick of the log-scale scenario chart', async () => {
  const labels = await page.evaluate(() => {
    const chart = (
      window as unknown as {
        ormcacheDashboard: { charts: { scenario: { scales: { y: { ticks: { label: unknown }[] } } } } }
      }
    ).ormcacheDashboard.charts.scenario
    return chart.scales.y.ticks.map((tick) => String(tick.label ?? ''))
  })
  expect(labels.length).toBeGreaterThan(0)
  expect(labels.every((label) => label !== '')).toBe(true)
})

it('links only GET routes from the routes table (the write-behind row names its POST route)', async () => {
  const row = page.locator('#routes tr', { hasText: 'write-behind' })
  expect(await row.textContent()).toContain('POST /prisma/posts/:id/views')
  const hrefs = await row.locator('a').evaluateAll((links) => links.map((a) => a.getAttribute('href')))
  expect(hrefs).toEqual(['/prisma/posts/1', '/typeorm/posts/1'])
  for (const href of hrefs) expect((await fetch(`${baseUrl}${href}`)).status).toBe(200)
})

it('runs the homepage scenario from its buttons and the charts and table update', async () => {
  const before = { queries: await chartTotal('queries'), scenario: await chartTotal('scenario') }
  await page.fill('#scenario-requests', '200')
  await page.fill('#scenario-concurrency', '20')
  await page.click('#run-both')

  // Four rows: each ORM with the cache off, then on.
  await page.waitForFunction(
    () => document.querySelectorAll('#scenario-results tbody tr').length === 4,
    undefined,
    { timeout: 60_000 },
  )
  const rows = await page.$$eval('#scenario-results tbody tr', (trs) =>
    trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent ?? '')),
  )
  expect(rows.map((r) => `${r[0]}/${r[1]}`)).toEqual(['prisma/off', 'prisma/on', 'typeorm/off', 'typeorm/on'])
  const dbQueries = (row: string[]) => Number(row[3]!.replace(/,/g, ''))
  const pairs: [string[], string[]][] = [
    [rows[0]!, rows[1]!],
    [rows[2]!, rows[3]!],
  ]
  for (const [off, on] of pairs) {
    expect(dbQueries(off)).toBeGreaterThanOrEqual(200 * 5)
    expect(dbQueries(on)).toBeLessThanOrEqual(10)
    expect(on[4]).not.toBe('0.0 %')
    expect(off[8]).toBe('0')
    expect(on[8]).toBe('0')
  }

  // The live charts picked up the load (sampled each second, redrawn each poll).
  await page.waitForFunction(
    (previous) => {
      const charts = (
        window as unknown as {
          ormcacheDashboard: { charts: Record<string, { data: { datasets: { data: (number | null)[] }[] } }> }
        }
      ).ormcacheDashboard.charts
      const total = (name: string) =>
        charts[name]!.data.datasets.flatMap((d) => d.data).reduce<number>((s, v) => s + (v ?? 0), 0)
      return (
        total('queries') > previous.queries && total('scenario') > previous.scenario && total('hitRatio') > 0
      )
    },
    before,
    { timeout: 15_000 },
  )
  expect(await chartTotal('latency')).toBeGreaterThan(0)
  const totalRequests = Number(
    (await page.textContent('.card[data-orm="total"] dd[data-field="requests"]'))!.replace(/,/g, ''),
  )
  expect(totalRequests).toBeGreaterThanOrEqual(800)

  mkdirSync(ARTIFACTS, { recursive: true })
  await page.screenshot({ path: join(ARTIFACTS, 'dashboard.png'), fullPage: true })
})

it('lists recent invalidations after a write', async () => {
  await demo.call('PATCH', '/typeorm/users/2', { bio: 'seen on the dashboard' })
  await page.waitForFunction(
    () => (document.querySelector('#invalidations')?.textContent ?? '').includes('r:users:2'),
    undefined,
    {
      timeout: 10_000,
    },
  )
})

it('loaded nothing from outside the demo and raised no script errors', () => {
  expect(foreignRequests).toEqual([])
  expect(pageErrors).toEqual([])
})
