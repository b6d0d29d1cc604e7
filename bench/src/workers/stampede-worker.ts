import { rowTag } from '@ormcache/core/adapter'
import type { KvSubject } from '../subjects/kv.js'
import { ItemTable } from '../subjects/kv-loader.js'
import type { OrmSubject } from '../subjects/orm.js'
import { kvSubject, ormSubject } from '../subjects/registry.js'
import type { FromWorker, ToWorker } from './protocol.js'

/**
 * One process of the stampede: on `prepare` it builds the subject and opens its connections,
 * on `go` it fires `readers` concurrent reads of the same cold key and reports how many queries
 * reached Postgres, on `release` it closes everything.
 */
interface Prepared {
  read(): Promise<unknown>
  queries(): number
  close(): Promise<void>
}

let prepared: Prepared | undefined
let message: Extract<ToWorker, { type: 'prepare' }> | undefined

const send = (reply: FromWorker): void => {
  process.send?.(reply)
}

async function prepare(m: Extract<ToWorker, { type: 'prepare' }>): Promise<Prepared> {
  if (m.level === 'kv') {
    const table = new ItemTable(m.databaseUrl)
    await table.warm()
    const subject: KvSubject = await kvSubject(m.subject).create(m.prefix)
    const tags = [rowTag('bench_item', { id: m.target })]
    let loads = 0
    return {
      read: () =>
        subject.read(`item:${m.target}`, tags, () => {
          loads++
          return table.read(m.target, m.queryMs)
        }),
      queries: () => loads,
      async close() {
        await subject.close()
        await table.close()
      },
    }
  }
  const subject: OrmSubject = await ormSubject(m.subject).create(m.prefix, m.databaseUrl)
  // Open the pool's connections with reads of other rows, so the cold read pays no connect.
  await Promise.all(Array.from({ length: 10 }, (_, i) => subject.findUser(1000 - i)))
  return {
    read: () => subject.findTeam(m.target),
    queries: () => subject.queries.reads,
    close: () => subject.close(),
  }
}

async function go(target: Prepared, readers: number): Promise<FromWorker> {
  const before = target.queries()
  const latencies: number[] = []
  let errors = 0
  let firstError: string | undefined
  await Promise.all(
    Array.from({ length: readers }, async () => {
      const t0 = performance.now()
      try {
        await target.read()
        latencies.push(performance.now() - t0)
      } catch (error) {
        errors++
        firstError ??= error instanceof Error ? error.message : String(error)
      }
    }),
  )
  return { type: 'done', queries: target.queries() - before, errors, firstError, latencies }
}

// A library's background promise that rejects (typically while it closes) is reported, not
// allowed to kill the process in the middle of another library's measurement.
process.on('unhandledRejection', (reason) => {
  console.error(`stampede worker: unhandled rejection (${message?.subject ?? 'no subject'}):`, reason)
})

process.on('message', (raw: ToWorker) => {
  const run = async (): Promise<void> => {
    switch (raw.type) {
      case 'prepare':
        message = raw
        prepared = await prepare(raw)
        send({ type: 'ready' })
        return
      case 'go':
        send(await go(prepared!, message!.readers))
        return
      case 'release':
        await prepared?.close()
        prepared = undefined
        send({ type: 'released' })
        return
      case 'exit':
        process.exit(0)
    }
  }
  run().catch((error: unknown) => {
    send({ type: 'failed', error: error instanceof Error ? (error.stack ?? error.message) : String(error) })
  })
})
