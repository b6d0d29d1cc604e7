import type { FastifyInstance } from 'fastify'
import pg from 'pg'
import type { DatabaseConfig } from '../config.js'
import type { ChangeStream } from '../stream/change-stream.js'

const outsideWriteBody = {
  type: 'object',
  required: ['postId', 'title'],
  additionalProperties: false,
  properties: {
    postId: { type: 'integer', minimum: 1 },
    title: { type: 'string', minLength: 1, maxLength: 200 },
  },
} as const

/**
 * The change stream's state for the dashboard, and "another service": a plain SQL UPDATE on its
 * own connection, which no ORM hook sees. With the stream on, the cached post page refreshes.
 */
export function streamRoutes(database: DatabaseConfig, stream: ChangeStream) {
  return async (app: FastifyInstance) => {
    app.get('/stream', async () => stream.snapshot())

    app.post('/stream/outside-write', { schema: { body: outsideWriteBody } }, async (request, reply) => {
      if (database.dialect !== 'postgres')
        return reply.status(409).send({ error: 'outside writes need PostgreSQL (DATABASE_URL=postgres://…)' })
      const { postId, title } = request.body as { postId: number; title: string }
      const client = new pg.Client({ connectionString: database.url })
      await client.connect()
      try {
        const { rowCount } = await client.query('UPDATE posts SET title = $1 WHERE id = $2', [title, postId])
        return { updated: rowCount, committedAt: Date.now() }
      } finally {
        await client.end()
      }
    })
  }
}
