import { columnTag, rowTag, tableTag } from '@ormcache/core/adapter'
import { joinColumns } from '../read-deps/m2m-loads.js'
import type { ModelInfo } from '../schema/data-model.js'
import { isRecord, type KeyValues, keyFromWhere } from '../schema/primary-key.js'

const LINKS = new Set(['connect', 'disconnect'])

/**
 * The tags of a nested write on an implicit many-to-many relation that only links and unlinks
 * rows named by key (`tags: { connect: [{ id }], disconnect: [{ id }] }`) from a parent whose key
 * is known: each join row it inserts or deletes is named by its key (both halves) and both of its
 * column values (docs/design.md, "Many-to-many relations"), so lists of other parents' children
 * stay cached. False when it cannot name them all (`set`, nested creates, a unique field other
 * than the key, a parent key the caller does not know): the caller bumps the join table's bulk tag.
 */
export function linkTags(
  model: ModelInfo,
  parentKey: KeyValues | undefined,
  joinTable: string,
  target: ModelInfo,
  payload: Record<string, unknown>,
  tags: Set<string>,
): boolean {
  const parentField = singleKey(model)
  const childField = singleKey(target)
  if (parentKey === undefined || parentField === undefined || childField === undefined) return false
  const parent = parentKey[parentField]
  if (parent === undefined || parent === null) return false
  const [parentColumn, childColumn] = joinColumns(model, target)
  const named: string[] = []
  for (const [operation, value] of Object.entries(payload)) {
    if (value === undefined) continue
    if (!LINKS.has(operation)) return false
    for (const item of Array.isArray(value) ? value : [value]) {
      const child = isRecord(item) ? keyFromWhere(target, item)?.[childField] : undefined
      if (child === undefined || child === null) return false
      named.push(
        rowTag(joinTable, { [parentColumn]: parent, [childColumn]: child }),
        columnTag(joinTable, parentColumn, parent),
        columnTag(joinTable, childColumn, child),
      )
    }
  }
  tags.add(tableTag(joinTable))
  for (const tag of named) tags.add(tag)
  return true
}

function singleKey(model: ModelInfo): string | undefined {
  const fields = model.primaryKey?.fields
  return fields?.length === 1 && model.pinnable.has(fields[0]!) ? fields[0] : undefined
}
