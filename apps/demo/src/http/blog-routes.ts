import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Blog, NewComment, NewPost, NewUser, OrmName, UserPatch } from '../blog/types.js'
import { NotFoundError } from '../errors.js'
import type { DemoMetrics } from '../metrics/demo-metrics.js'
import { type RequestTally, withTally } from '../metrics/request-context.js'
import type { TrendingResult } from '../strategies/trending.js'
import type { ViewCounter } from '../strategies/view-counter.js'
import { idParam, readMode, takeParam } from './request-input.js'
import {
  cacheQuery,
  idParams,
  listQuery,
  newCommentBody,
  newPostBody,
  newUserBody,
  userPatchBody,
} from './schemas.js'

export interface BlogRouteDeps {
  blog: Blog
  trending: (read: { cache: boolean }) => Promise<TrendingResult>
  views: ViewCounter
  metrics: DemoMetrics
}

type Handler = (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>

/**
 * The blog's resources for one ORM; registered twice, under /prisma and /typeorm. Every response
 * says which ORM answered, whether the cache was on, and how many statements the database ran
 * for it (`x-db-queries`: 0 on a cache hit).
 */
export function blogRoutes(deps: BlogRouteDeps) {
  const { blog, views } = deps
  const orm: OrmName = blog.orm
  return async (app: FastifyInstance) => {
    const tallies = new WeakMap<FastifyRequest, RequestTally>()
    app.addHook('onSend', async (request, reply, payload) => {
      const tally = tallies.get(request)
      if (tally !== undefined) reply.header('x-db-queries', String(tally.dbQueries))
      return payload
    })
    app.addHook('onResponse', async (_request, reply) => deps.metrics.recordRequest(orm, reply.elapsedTime))

    const counted =
      (handler: Handler): Handler =>
      (request, reply) => {
        const tally: RequestTally = { dbQueries: 0 }
        tallies.set(request, tally)
        reply.header('x-orm', orm)
        reply.header('x-cache-mode', readMode(request).cache ? 'on' : 'off')
        return withTally(tally, () => handler(request, reply))
      }

    app.get(
      '/users',
      { schema: { querystring: listQuery } },
      counted(async (request) => blog.users(readMode(request), takeParam(request, 20, 100))),
    )

    app.post(
      '/users',
      { schema: { body: newUserBody } },
      counted(async (request, reply) =>
        reply.status(201).send(await blog.createUser(request.body as NewUser)),
      ),
    )

    // Lazy loading: a primary-key lookup, cached on first read.
    app.get(
      '/users/:id',
      { schema: { params: idParams, querystring: cacheQuery } },
      counted(async (request) => {
        const id = idParam(request)
        return (await blog.user(readMode(request), id)) ?? notFound('user', id)
      }),
    )

    // Write-through (Prisma): the updated row becomes the cached profile, so the next read is a
    // fresh hit. TypeORM's adapter invalidates the row instead; its next read loads it once.
    app.patch(
      '/users/:id',
      { schema: { params: idParams, body: userPatchBody } },
      counted(async (request) => {
        const id = idParam(request)
        return (await blog.updateUser(id, request.body as UserPatch)) ?? notFound('user', id)
      }),
    )

    app.get(
      '/posts/:id',
      { schema: { params: idParams, querystring: cacheQuery } },
      counted(async (request) => {
        const id = idParam(request)
        const post = (await blog.post(readMode(request), id)) ?? notFound('post', id)
        return { ...post, views: await views.current(post.id, post.views) }
      }),
    )

    // Tag invalidation: a new or deleted post invalidates the feed of both ORMs.
    app.post(
      '/posts',
      { schema: { body: newPostBody } },
      counted(async (request, reply) => {
        const input = request.body as NewPost
        return reply.status(201).send(await blog.createPost({ ...input, tags: input.tags ?? [] }))
      }),
    )

    app.delete(
      '/posts/:id',
      { schema: { params: idParams } },
      counted(async (request, reply) => {
        const id = idParam(request)
        if (!(await blog.deletePost(id))) notFound('post', id)
        return reply.status(204).send()
      }),
    )

    // Write-behind: the count goes to the cache and a queue; the database gets it in batches.
    app.post(
      '/posts/:id/views',
      { schema: { params: idParams } },
      counted(async (request) => {
        const id = idParam(request)
        const count = (await views.record(id)) ?? notFound('post', id)
        return { postId: id, views: count }
      }),
    )

    app.post(
      '/posts/:id/comments',
      { schema: { params: idParams, body: newCommentBody } },
      counted(async (request, reply) => {
        const id = idParam(request)
        const comment = (await blog.addComment(id, request.body as NewComment)) ?? notFound('post', id)
        return reply.status(201).send(comment)
      }),
    )

    app.get(
      '/feed',
      { schema: { querystring: listQuery } },
      counted(async (request) => {
        const { tag } = request.query as { tag?: string }
        return blog.feed(readMode(request), {
          take: takeParam(request, 20, 100),
          ...(tag === undefined ? {} : { tag }),
        })
      }),
    )

    app.get(
      '/tags',
      { schema: { querystring: cacheQuery } },
      counted(async (request) => blog.tags(readMode(request))),
    )

    // Stampede protection: concurrent cold requests share one load per distinct query.
    app.get(
      '/home',
      { schema: { querystring: cacheQuery } },
      counted(async (request) => blog.home(readMode(request))),
    )

    // Stale-while-revalidate on a deliberately slow query.
    app.get(
      '/trending',
      { schema: { querystring: cacheQuery } },
      counted(async (request) => deps.trending(readMode(request))),
    )
  }
}

function notFound(what: string, id: number): never {
  throw new NotFoundError(what, id)
}
