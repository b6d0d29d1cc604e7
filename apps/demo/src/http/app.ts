import Fastify, { type FastifyInstance } from 'fastify'
import { ORMS, type OrmName } from '../blog/types.js'
import { type ApiRouteDeps, apiRoutes, dashboardSnapshot } from './api-routes.js'
import { type BlogRouteDeps, blogRoutes } from './blog-routes.js'
import { dashboardRoutes } from './dashboard-routes.js'
import { installErrorHandling } from './errors.js'
import { prometheusRoute } from './prometheus-route.js'

export interface HttpDeps extends ApiRouteDeps {
  blogs: Record<OrmName, Omit<BlogRouteDeps, 'metrics'>>
  log: boolean
}

export async function buildHttpApp(deps: HttpDeps): Promise<FastifyInstance> {
  const app = Fastify({
    logger: deps.log,
    // Bodies are checked as sent: no "5" → 5 coercion, no silently dropped unknown fields.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false } },
  })
  installErrorHandling(app)
  await app.register(dashboardRoutes(() => dashboardSnapshot(deps)))
  await app.register(apiRoutes(deps), { prefix: '/api' })
  for (const orm of ORMS) {
    await app.register(blogRoutes({ ...deps.blogs[orm], metrics: deps.metrics }), { prefix: `/${orm}` })
  }
  app.get('/health', async () => ({ ok: true }))
  await app.register(prometheusRoute(deps.caches))
  return app
}
