import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import { demoPath } from '../paths.js'

const require = createRequire(import.meta.url)

/**
 * The dashboard: one page, its script and stylesheet, and Chart.js from the installed npm
 * package (never a CDN: the demo works offline and the page loads nothing from elsewhere).
 */
export function dashboardRoutes() {
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
  const page = readFileSync(demoPath('public', 'index.html'))

  return async (app: FastifyInstance) => {
    app.get('/', async (_request, reply) => reply.type('text/html; charset=utf-8').send(page))
    app.get('/assets/:name', async (request, reply) => {
      const asset = loaded.get((request.params as { name: string }).name)
      if (asset === undefined) return reply.callNotFound()
      return reply.type(asset.type).header('cache-control', 'no-cache').send(asset.body)
    })
  }
}
