import type { Cache } from '@ormcache/core'
import { prometheusMetrics } from '@ormcache/core/prometheus'
import type { FastifyInstance } from 'fastify'
import { Registry } from 'prom-client'
import { ORMS, type OrmName } from '../blog/types.js'

/**
 * GET /metrics in Prometheus' text format, for a scraper. Both ORMs' caches share a namespace, so
 * their series are told apart by the `cache` label (`prisma`, `typeorm`). A registry of its own,
 * so several demos in one process (the tests) never collide in prom-client's global one.
 */
export function prometheusRoute(caches: Record<OrmName, Cache>) {
  const registry = new Registry()
  for (const orm of ORMS) prometheusMetrics(caches[orm], { registry, name: orm })
  return async (app: FastifyInstance) => {
    app.get('/metrics', async (_request, reply) =>
      reply.type(registry.contentType).send(await registry.metrics()),
    )
  }
}
