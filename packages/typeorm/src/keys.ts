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

/**
 * `digest` names the scope and SQL text (read-memo.ts), `parameters` is `buildKey` of the bound
 * values. Neither the label (no `:`) nor the digest (base64url) contains a `:`, so the parts
 * cannot run into each other.
 */
export function queryKey(label: string, digest: string, parameters: string): string {
  return `typeorm:${label.replace(LABEL, '_').slice(0, 40)}:${digest}:${parameters}`
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
