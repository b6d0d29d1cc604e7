import { buildKey } from '@ormcache/core/adapter'
import type { DataSource } from 'typeorm'

/**
 * Cache keys and tags of TypeORM queries. The SQL text never becomes a store key as such: the
 * core hashes any key that is long or holds unsafe characters, keeping only a readable label.
 */
const LABEL = /[^A-Za-z0-9_.-]/g

/** Separates DataSources that share one cache namespace but not one database. */
export function defaultScope(dataSource: DataSource): string {
  const driver = dataSource.driver as { database?: unknown; schema?: unknown }
  const part = (value: unknown) => (typeof value === 'string' ? value : '')
  return `${dataSource.options.type}/${part(driver.database)}/${part(driver.schema)}`
}

export function queryKey(scope: string, label: string, sql: string, parameters: readonly unknown[]): string {
  return `typeorm:${label.replace(LABEL, '_').slice(0, 40)}:${buildKey([scope, sql, parameters])}`
}

/** Entries cached under TypeORM's `cache: { id }` are keyed by that id alone, as TypeORM does. */
export function identifierKey(scope: string, identifier: string): string {
  return `typeorm:id:${buildKey([scope, identifier])}`
}

/** TypeORM derives "<id>-count" and "<id>-pagination" for the extra queries of one find. */
const DERIVED = /-(count|pagination)$/

/** An id'd entry depends on its id's tag, and a derived id also on its base id's tag. */
export function identifierTags(scope: string, identifier: string): string[] {
  const tags = [identifierTag(scope, identifier)]
  if (DERIVED.test(identifier)) tags.push(identifierTag(scope, identifier.replace(DERIVED, '')))
  return tags
}

export function identifierTag(scope: string, identifier: string): string {
  return `typeorm-id:${buildKey([scope, identifier])}`
}
