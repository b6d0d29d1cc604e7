// A CommonJS application, as many TypeORM/NestJS users have: require() everything.
const { DataSource, EntitySchema } = require('typeorm')
const { createCache } = require('@ormcache/core')
const { typeormCache } = require('@ormcache/typeorm')

const Note = new EntitySchema({
  name: 'Note',
  tableName: 'notes',
  columns: { id: { type: Number, primary: true, generated: true }, body: { type: String } },
})

async function main() {
  const cache = createCache()
  const ds = new DataSource({
    type: 'better-sqlite3',
    database: ':memory:',
    entities: [Note],
    synchronize: true,
    ...typeormCache({ cache, alwaysEnabled: true }),
  })
  await ds.initialize()
  const notes = ds.getRepository('Note')
  await notes.insert({ body: 'a' })
  await notes.findOneBy({ id: 1 })
  await notes.findOneBy({ id: 1 })
  await notes.update(1, { body: 'b' })
  const after = await notes.findOneBy({ id: 1 })
  console.log(
    JSON.stringify({
      typeormCache: typeof typeormCache,
      hits: cache.stats().hits,
      fresh: after.body === 'b',
    }),
  )
  await ds.destroy()
}
main().catch((error) => {
  console.error(error)
  process.exit(1)
})
