import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestDemo, type TestDemo } from './support/demo.js'
import { demoPostgresUrl } from './support/postgres.js'

// "Another service" updates a post with plain SQL on its own connection; with DEMO_CHANGE_STREAM=1
// the cached post page of both ORMs refreshes through @ormcache/postgres.
let demo: TestDemo
let url: string

beforeAll(async () => {
  url = await demoPostgresUrl()
  process.env.DEMO_CHANGE_STREAM = '1'
  try {
    demo = await startTestDemo({ databaseUrl: url })
  } finally {
    delete process.env.DEMO_CHANGE_STREAM
  }
})

afterAll(async () => {
  await demo?.close()
})

describe('writes outside the ORMs', () => {
  it('an outside UPDATE refreshes the cached post page; the dashboard sees the stream', async () => {
    const before = await demo.get('/prisma/posts/1')
    expect(before.status).toBe(200)
    await demo.get('/typeorm/posts/1')
    expect((await demo.get('/prisma/posts/1')).dbQueries).toBe(0) // cached
    const title = `Edited outside ${Date.now()}`
    const write = await demo.call('POST', '/api/stream/outside-write', { postId: 1, title })
    expect(write.status).toBe(200)
    expect(write.json.updated).toBe(1)
    const deadline = Date.now() + 10_000
    for (;;) {
      const [prisma, typeorm] = [await demo.get('/prisma/posts/1'), await demo.get('/typeorm/posts/1')]
      if (prisma.json.title === title && typeorm.json.title === title) break
      if (Date.now() > deadline) throw new Error(`still ${prisma.json.title} / ${typeorm.json.title}`)
      await new Promise((r) => setTimeout(r, 20))
    }
    const stream = (await demo.get('/api/stream')).json
    expect(stream).toMatchObject({ enabled: true, active: true, errors: 0 })
    expect(stream.transactions).toBeGreaterThanOrEqual(1)
  })

  it('closing the demo drops its slot', async () => {
    await demo.close()
    const client = new pg.Client({ connectionString: url })
    await client.connect()
    try {
      const { rowCount } = await client.query(
        "SELECT 1 FROM pg_replication_slots WHERE slot_name = 'ormcache_demo'",
      )
      expect(rowCount).toBe(0)
    } finally {
      await client.end()
    }
    demo = undefined as unknown as TestDemo
  })
})
