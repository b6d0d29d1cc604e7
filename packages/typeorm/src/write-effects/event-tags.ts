import { bulkWriteTags, columnAnyTag, rowTag, tableTag, unnamedMemberTag } from '@ormcache/core/adapter'
import type { EntityMetadata, ObjectLiteral } from 'typeorm'
import type { SchemaIndex } from '../schema/entity-schema.js'
import { canonicalKey, type RowKey } from '../schema/row-keys.js'
import { eventLeftTags } from './left-values.js'

export type EntityWriteKind = 'insert' | 'update' | 'remove' | 'softRemove' | 'recover'

/** The parts of TypeORM's entity events this adapter reads. */
export interface EntityWrite {
  metadata: EntityMetadata
  entity?: ObjectLiteral | undefined
  databaseEntity?: ObjectLiteral | undefined
  entityId?: ObjectLiteral | undefined
}

/**
 * Tags for an entity event: the table tag and the row tag of every primary key the event names
 * (old and new key of an update), or the bulk tag when it names none — QueryBuilder and
 * repository bulk operations emit events without entities. A remove also reaches the tables the
 * database changes by cascade.
 */
export function entityWriteTags(kind: EntityWriteKind, event: EntityWrite, schema: SchemaIndex): string[] {
  const metadata = event.metadata
  const table = schema.table(metadata.tableName)
  const name = metadata.tableName
  const tags = new Set<string>([tableTag(name)])
  const keys: (RowKey | undefined)[] = []
  switch (kind) {
    case 'insert':
      keys.push(keyOf(metadata, event.entity, schema) ?? keyOf(metadata, event.entityId, schema))
      break
    case 'update':
      // A QueryBuilder update carries only the SET values: no databaseEntity, so no rows.
      keys.push(
        event.databaseEntity === undefined ? undefined : keyOf(metadata, event.databaseEntity, schema),
      )
      if (event.databaseEntity !== undefined && event.entity !== undefined) {
        const next = keyOf(metadata, event.entity, schema)
        if (next !== undefined) keys.push(next)
      }
      break
    default:
      keys.push(keyOf(metadata, event.databaseEntity ?? event.entityId ?? event.entity, schema))
  }
  if (table === undefined || table.tree || keys.some((key) => key === undefined)) {
    for (const tag of bulkWriteTags(name)) tags.add(tag)
  } else {
    for (const key of keys) tags.add(rowTag(name, key!))
    // Rows that appear or change may enter lists pinned to any of their columns (docs/design.md,
    // "Precision"); a removed row is reached through its row tag.
    if (kind !== 'remove') for (const column of table.columns) tags.add(columnAnyTag(name, column))
    // Counts over pins lose rows that leave a value the event does not name.
    if (kind !== 'insert') eventLeftTags(table, tags)
    // A changed row keeps values the event does not name either ("Lists without row tags").
    if (kind !== 'insert' && kind !== 'remove') tags.add(unnamedMemberTag(name))
  }
  if (kind === 'remove') {
    for (const dependent of schema.deleteCascades(name))
      for (const tag of bulkWriteTags(dependent)) tags.add(tag)
  }
  return [...tags]
}

/** `source` is an entity, an id map, or (TypeORM's "mixed" id of a single-key entity) the bare key. */
function keyOf(metadata: EntityMetadata, source: unknown, schema: SchemaIndex): RowKey | undefined {
  const table = schema.table(metadata.tableName)
  if (
    source === undefined ||
    source === null ||
    table === undefined ||
    metadata.primaryColumns.length === 0
  ) {
    return undefined
  }
  const bare = typeof source !== 'object' || source instanceof Date
  if (bare && metadata.primaryColumns.length !== 1) return undefined
  const key: RowKey = {}
  for (const column of metadata.primaryColumns) {
    const info = table.primary.find((c) => c.name === column.databaseName)
    const raw = bare ? source : column.getEntityValue(source as ObjectLiteral)
    const value = info === undefined ? undefined : canonicalKey(info, raw)
    if (value === undefined) return undefined
    key[column.databaseName] = value
  }
  return key
}
