/**
 * One process of the randomized multi-process run: concurrent reads and writes on the shared
 * PostgreSQL database through a cache on the shared Redis store. Prints one JSON line of stats.
 * Besides exercising races, it checks read-your-writes (G2) across processes on the settings
 * it alone writes.
 */

import { createCache } from '@ormcache/core'
import { redisStore } from '@ormcache/core/redis'
import { PrismaPg } from '@prisma/adapter-pg'
import { cacheExtension } from '../../src/index.js'
import { PrismaClient } from '../generated/postgres/client/client.ts'
import { CATALOGUE, SHAPE } from './catalogue.js'
import type { CachedClient } from './clients.js'

const env = (name: string) => {
  const value = process.env[name]
  if (value === undefined) throw new Error(`worker needs ${name}`)
  return value
}
const worker = Number(env('WORKER'))
const operations = Number(env('OPERATIONS'))
let state = Number(env('SEED')) >>> 0
/** mulberry32: reproducible from SEED. */
function random(): number {
  state = (state + 0x6d2b79f5) >>> 0
  let t = state
  t = Math.imul(t ^ (t >>> 15), t | 1)
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}
const pick = (n: number) => 1 + Math.floor(random() * n)

const store = redisStore({ url: env('REDIS_URL') })
const cache = createCache({ store, namespace: env('NAMESPACE') })
const base = new PrismaClient({ adapter: new PrismaPg({ connectionString: env('PG_URL'), max: 4 }) })
const listTags = env('LIST_TAGS') as 'rows' | 'members'
const prisma = base.$extends(cacheExtension({ cache, listTags })) as unknown as CachedClient

const owned = `w${worker}`
let ownedValue = 0
let ownLock: Promise<unknown> = Promise.resolve()
const stats = { reads: 0, writes: 0, failedWrites: 0, rolledBack: 0, ownChecks: 0 }

const readNames = Object.keys(CATALOGUE)

async function write(): Promise<void> {
  const kind = Math.floor(random() * 12)
  const user = pick(SHAPE.users)
  const post = pick(SHAPE.posts + 10)
  switch (kind) {
    case 0:
      await prisma.user.update({
        where: { id: user },
        data: { name: `n${worker}-${random().toFixed(4)}`, visits: { increment: 1 } },
      })
      break
    case 1:
      await prisma.post.create({
        data: {
          title: `w${worker}`,
          authorId: user,
          published: random() < 0.5,
          tags: { connect: [{ id: pick(SHAPE.tags) }] },
        },
      })
      break
    case 2:
      await prisma.post.delete({ where: { id: post } })
      break
    case 3:
      await prisma.post.update({
        where: { id: post },
        data: { tags: { set: [{ id: pick(SHAPE.tags) }] }, views: { increment: 2 } },
      })
      break
    case 4:
      await prisma.post.updateMany({ where: { authorId: user }, data: { published: random() < 0.5 } })
      break
    case 5:
      await prisma.$transaction(async (tx) => {
        await tx.user.update({ where: { id: user }, data: { balance: { increment: 1.5 } } })
        await tx.comment.create({ data: { body: `t${worker}`, postId: post, authorId: user } })
      })
      break
    case 6:
      await prisma.$transaction([
        prisma.post.update({ where: { id: post }, data: { authorId: user } }),
        prisma.user.update({ where: { id: user }, data: { name: `b${worker}` } }),
      ])
      break
    case 7:
      await prisma.$executeRaw`UPDATE posts SET views = views + 1, published = NOT published WHERE author_id = ${user}`
      break
    case 8:
      await prisma.user.update({
        where: { id: user },
        data: {
          posts: {
            create: [{ title: `nested${worker}` }],
            deleteMany: { title: `nested${worker}`, views: 0, published: true },
          },
        },
      })
      break
    case 9:
      await prisma
        .$transaction(async (tx) => {
          await tx.post.update({ where: { id: post }, data: { title: 'rolled back' } })
          throw new Error('rollback')
        })
        .catch(() => {
          stats.rolledBack++
        })
      break
    case 10:
      await prisma.membership.upsert({
        where: { userId_teamId: { userId: user, teamId: pick(SHAPE.teams) } },
        create: { userId: user, teamId: pick(SHAPE.teams), role: 'new' },
        update: { role: `r${worker}` },
      })
      break
    default: {
      // Read-your-writes on a setting only this worker writes, one such write at a time (two
      // concurrent writes of the same row may legitimately commit in either order).
      const turn = ownLock.then(async () => {
        ownedValue++
        const key = `k${(worker % SHAPE.settings) + 1}`
        const value = `${owned}-${ownedValue}`
        await prisma.setting.upsert({ where: { key }, create: { key, value }, update: { value } })
        const seen = await prisma.setting.findUnique({ where: { key } })
        if (seen?.value !== value)
          throw new Error(`read-your-writes violated: wrote ${value}, read ${seen?.value}`)
        stats.ownChecks++
      })
      ownLock = turn.catch(() => undefined)
      await turn
    }
  }
}

async function main(): Promise<void> {
  const inflight = new Set<Promise<void>>()
  for (let i = 0; i < operations; i++) {
    const op = (async () => {
      if (random() < 0.65) {
        const entry = CATALOGUE[readNames[Math.floor(random() * readNames.length)]!]!
        await entry.read(prisma, pick(SHAPE[entry.ids]))
        stats.reads++
      } else {
        try {
          await write()
          stats.writes++
        } catch (error) {
          if (error instanceof Error && error.message.startsWith('read-your-writes')) throw error
          stats.failedWrites++ // missing rows, FK and unique conflicts between workers
        }
      }
    })()
    inflight.add(op)
    void op.finally(() => inflight.delete(op))
    if (inflight.size >= 8) await Promise.race(inflight)
  }
  await Promise.all(inflight)
  console.log(JSON.stringify({ worker, ...stats, cache: cache.stats().hits }))
}

main()
  .then(async () => {
    await base.$disconnect()
    await cache.close()
  })
  .catch(async (error) => {
    console.error(error)
    process.exitCode = 1
    await base.$disconnect().catch(() => undefined)
    await cache.close().catch(() => undefined)
  })
