import { createHash } from 'node:crypto'
import { buildKey } from '@ormcache/core/adapter'
import type { DataSource } from 'typeorm'
import { TextMemo } from './sql/memo.js'

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
  return `${QueryKeys.prefix(scope, label, sql)}${buildKey(parameters)}`
}

/**
 * The part of a query key that depends on the SQL text, computed once per text: the label and
 * two independent digests (SHA-256 and SHA-512/256) of scope and SQL, so a key carries ~100
 * characters instead of the whole statement, and a collision would have to hit both digests
 * (the core's own rule for hashed keys). Building and hashing a statement-long key on every read
 * cost more than the rest of the key path.
 */
const QueryKeys = {
  memos: new Map<string, TextMemo<{ label: string; prefix: string }>>(),
  prefix(scope: string, label: string, sql: string): string {
    let memo = this.memos.get(scope)
    if (memo === undefined) {
      memo = new TextMemo()
      // Scopes are a handful per process (one per DataSource); bound them anyway.
      if (this.memos.size >= 64) this.memos.clear()
      this.memos.set(scope, memo)
    }
    const compute = () => {
      // UTF-16 code units, not UTF-8: lone surrogates in a literal must not merge two texts.
      const text = Buffer.from(buildKey([scope, label, sql]), 'utf16le')
      const digest = (algorithm: string) => createHash(algorithm).update(text).digest('base64url')
      const prefix = `typeorm:${label.replace(LABEL, '_').slice(0, 40)}:${digest('sha256')}${digest('sha512-256')}:`
      return { label, prefix }
    }
    // The label is derived from the SQL text (readDependencies), so one text has one label; a
    // different label (another schema under the same scope) still gets its own digest.
    let found = memo.get(sql, compute)
    if (found.label !== label) {
      found = compute()
      memo.set(sql, found)
    }
    return found.prefix
  },
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
