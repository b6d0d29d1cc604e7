import type { KvSubjectFactory } from './kv.js'
import { bentocacheKv } from './kv-bentocache.js'
import { cacheManagerKv } from './kv-cache-manager.js'
import { ioredisFloor, memjsFloor } from './kv-floors.js'
import { ormcacheKv } from './kv-ormcache.js'
import type { OrmSubjectFactory } from './orm.js'
import { PRISMA_SUBJECTS } from './prisma.js'
import { TYPEORM_SUBJECTS } from './typeorm.js'

/** Every subject by id, for scenarios that name them and for worker processes. */
export const KV_SUBJECTS: readonly KvSubjectFactory[] = [
  ioredisFloor,
  memjsFloor,
  ormcacheKv('redis'),
  ormcacheKv('memcached'),
  ormcacheKv('l1-bounded'),
  ormcacheKv('l1-strict'),
  ormcacheKv('memory'),
  bentocacheKv(false),
  bentocacheKv(true),
  cacheManagerKv,
]

export const ORM_SUBJECTS: readonly OrmSubjectFactory[] = [...PRISMA_SUBJECTS, ...TYPEORM_SUBJECTS]

export function kvSubject(id: string): KvSubjectFactory {
  const found = KV_SUBJECTS.find((f) => f.id === id)
  if (found === undefined) throw new Error(`unknown cache subject "${id}"`)
  return found
}

export function ormSubject(id: string): OrmSubjectFactory {
  const found = ORM_SUBJECTS.find((f) => f.id === id)
  if (found === undefined) throw new Error(`unknown ORM subject "${id}"`)
  return found
}
