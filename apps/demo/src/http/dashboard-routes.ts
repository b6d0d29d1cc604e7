import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import { demoPath } from '../paths.js'

const require = createRequire(import.meta.url)

interface DashboardInfo {
  database: string
  store: string
  namespace: string
}

/** Same text as dashboard.js writes on every poll. */
function infoLine(info: DashboardInfo): string {
  return `database ${info.database} · cache store ${info.store} · namespace "${info.namespace}"`
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')
}

/** JSON that cannot close its <script> element early. */
function inlineJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029')
}

/**
 * The dashboard: one page, its script and stylesheet, and Chart.js from the installed npm
 * package (never a CDN: the demo works offline and the page loads nothing from elsewhere).
 */
export function dashboardRoutes(snapshot: () => Promise<{ info: DashboardInfo }>) {
  const chartJs = join(dirname(require.resolve('chart.js')), 'chart.umd.min.js')
  const assets: Record<string, { file: string; type: string }> = {
    'chart.umd.min.js': { file: chartJs, type: 'text/javascript; charset=utf-8' },
    'dashboard.js': { file: demoPath('public', 'dashboard.js'), type: 'text/javascript; charset=utf-8' },
    'stream.js': { file: demoPath('public', 'stream.js'), type: 'text/javascript; charset=utf-8' },
    'dashboard.css': { file: demoPath('public', 'dashboard.css'), type: 'text/css; charset=utf-8' },
  }
  const loaded = new Map(
    Object.entries(assets).map(([name, asset]) => [name, { ...asset, body: readFileSync(asset.file) }]),
  )
  const page = readFileSync(demoPath('public', 'index.html'), 'utf8')

  return async (app: FastifyInstance) => {
    // The first paint already has the data: the snapshot is inlined (the script renders it before
    // its first poll) and the header line is filled in, so nothing says "connecting…" meanwhile.
    app.get('/', async (_request, reply) => {
      const initial = await snapshot()
      const html = page
        .replace('<p id="info">connecting…</p>', `<p id="info">${escapeHtml(infoLine(initial.info))}</p>`)
        .replace(
          '<script id="initial-metrics" type="application/json"></script>',
          `<script id="initial-metrics" type="application/json">${inlineJson(initial)}</script>`,
        )
      return reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(html)
    })
    app.get('/assets/:name', async (request, reply) => {
      const asset = loaded.get((request.params as { name: string }).name)
      if (asset === undefined) return reply.callNotFound()
      return reply.type(asset.type).header('cache-control', 'no-cache').send(asset.body)
    })
  }
}
