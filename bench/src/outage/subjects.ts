import 'reflect-metadata'
import type { Cache } from '@ormcache/core'
import { PrismaPg } from '@prisma/adapter-pg'
import { DataSource } from 'typeorm'
import { PrismaClient } from '../../generated/postgres/client/client.js'
import { ENTITIES, User } from '../subjects/typeorm-entities.js'
import { OUTAGE_SCHEMA } from './database.js'

/** One ORM under load: reads and writes a row's `version`; the database is the truth. */
export interface LoadSubject {
  readonly name: 'prisma' | 'typeorm'
  /** The row's version as read (cached or not). */
  read(id: number): Promise<number>
  /** Increments the row's version; resolves to the new version once the ORM write resolved. */
  write(id: number): Promise<number>
  close(): Promise<void>
}

/** Prisma 7 through the ormcache extension (or plain, without `cache`), on the outage schema. */
export async function prismaSubject(url: string, cache: Cache | undefined): Promise<LoadSubject> {
  const base = new PrismaClient({
    adapter: new PrismaPg({ connectionString: url, max: 4 }, { schema: OUTAGE_SCHEMA }),
  })
  const client =
    cache === undefined
      ? base
      : (base.$extends(
          (await import('@ormcache/prisma')).cacheExtension({ cache, closeCache: false }),
        ) as unknown as PrismaClient)
  return {
    name: 'prisma',
    async read(id) {
      const row = await client.user.findUnique({ where: { id } })
      if (row === null) throw new Error(`prisma: row ${id} missing`)
      return row.version
    },
    async write(id) {
      return (await client.user.update({ where: { id }, data: { version: { increment: 1 } } })).version
    },
    close: () => base.$disconnect(),
  }
}

/** TypeORM 1.x with ormcache as its query result cache (every find cached), or plain. */
export async function typeormSubject(url: string, cache: Cache | undefined): Promise<LoadSubject> {
  const orm =
    cache === undefined
      ? {}
      : (await import('@ormcache/typeorm')).typeormCache({ cache, alwaysEnabled: true, closeCache: false })
  const dataSource = await new DataSource({
    type: 'postgres',
    url,
    schema: OUTAGE_SCHEMA,
    entities: ENTITIES,
    synchronize: false,
    logging: false,
    poolSize: 4,
    ...orm,
  }).initialize()
  const users = dataSource.getRepository(User)
  return {
    name: 'typeorm',
    async read(id) {
      const row = await users.findOne({ where: { id }, cache: cache !== undefined })
      if (row === null) throw new Error(`typeorm: row ${id} missing`)
      return row.version
    },
    async write(id) {
      const result = await dataSource
        .createQueryBuilder()
        .update(User)
        .set({ version: () => 'version + 1' })
        .where('id = :id', { id })
        .returning(['version'])
        .execute()
      return Number((result.raw as { version: number }[])[0]!.version)
    },
    close: () => dataSource.destroy(),
  }
}
