import { bulkTag, tableTag } from '@ormcache/core/adapter'
import type { DataModel, ModelInfo, RelationInfo } from '../schema/data-model.js'
import { isRecord, type KeyValues, keyFromWhere, keyRowTag } from './primary-key.js'

export interface ReadDependencies {
  /** Tags the cached entry depends on. */
  tags: string[]
  /** Set when the read is a primary-key lookup (row tag + bulk tag instead of the table tag). */
  key: KeyValues | undefined
}

const KEY_LOOKUPS = new Set(['findUnique', 'findUniqueOrThrow', 'findFirst', 'findFirstOrThrow'])
const LIST_FILTERS = ['some', 'every', 'none']
const ONE_FILTERS = ['is', 'isNot']

/**
 * The tags a read depends on (design §3): the table of every model and join table it touches
 * through include, select, where, orderBy, cursor and _count. A lookup by primary key depends on
 * its row tag and the bulk tag of its table instead of the table tag, so writes to other rows
 * leave it cached.
 */
export function readDependencies(
  dataModel: DataModel,
  model: ModelInfo,
  operation: string,
  args: Record<string, unknown>,
): ReadDependencies {
  const walker = new Walker(dataModel)
  walker.args(model, args, true)
  const key = KEY_LOOKUPS.has(operation) ? keyFromWhere(model, args.where) : undefined
  const tags: string[] = []
  if (key !== undefined) {
    tags.push(keyRowTag(model, key), bulkTag(model.table))
    // Other rows of the same table (a self-relation) still need the table tag.
    if (walker.selfTouched) walker.tables.add(model.table)
    else walker.tables.delete(model.table)
  }
  for (const table of walker.tables) tags.push(tableTag(table))
  return { tags, key }
}

class Walker {
  readonly tables = new Set<string>()
  /** The root model's table was reached again through a relation. */
  selfTouched = false
  private root: ModelInfo | undefined

  constructor(private readonly dataModel: DataModel) {}

  args(model: ModelInfo, args: unknown, root = false): void {
    if (root) this.root = model
    this.tables.add(model.table)
    if (!isRecord(args)) return
    this.where(model, args.where)
    this.where(model, args.having)
    this.selection(model, args.select)
    this.selection(model, args.include)
    this.orderBy(model, args.orderBy)
  }

  private relation(model: ModelInfo, relation: RelationInfo): ModelInfo | undefined {
    const target = this.dataModel.models.get(relation.target)
    if (relation.joinTable !== undefined) this.tables.add(relation.joinTable)
    if (target === undefined) return undefined
    this.tables.add(target.table)
    if (target === this.root || target.table === model.table) this.selfTouched = true
    return target
  }

  private selection(model: ModelInfo, selection: unknown): void {
    if (!isRecord(selection)) return
    for (const [name, value] of Object.entries(selection)) {
      if (value === false || value === undefined || value === null) continue
      if (name === '_count') {
        this.count(model, value)
        continue
      }
      const relation = model.relations.get(name)
      if (relation === undefined) continue
      const target = this.relation(model, relation)
      if (target !== undefined && isRecord(value)) this.args(target, value)
    }
  }

  /** `_count: true` counts every list relation; `_count: { select: { posts: … } }` the named ones. */
  private count(model: ModelInfo, value: unknown): void {
    const selected = isRecord(value) && isRecord(value.select) ? value.select : undefined
    for (const relation of model.relations.values()) {
      if (selected === undefined) {
        if (relation.isList) this.relation(model, relation)
        continue
      }
      const entry = selected[relation.field]
      if (entry === undefined || entry === false) continue
      const target = this.relation(model, relation)
      if (target !== undefined && isRecord(entry)) this.where(target, entry.where)
    }
  }

  private where(model: ModelInfo, where: unknown): void {
    if (Array.isArray(where)) {
      for (const item of where) this.where(model, item)
      return
    }
    if (!isRecord(where)) return
    for (const [name, value] of Object.entries(where)) {
      if (name === 'AND' || name === 'OR' || name === 'NOT') {
        this.where(model, value)
        continue
      }
      const relation = model.relations.get(name)
      if (relation === undefined) continue
      const target = this.relation(model, relation)
      if (target === undefined || !isRecord(value)) continue
      const operators = relation.isList ? LIST_FILTERS : ONE_FILTERS
      const named = operators.filter((op) => op in value)
      if (named.length > 0) for (const op of named) this.where(target, value[op])
      // To-one shorthand: `author: { name: 'x' }` filters the related row directly.
      else if (!relation.isList) this.where(target, value)
    }
  }

  private orderBy(model: ModelInfo, orderBy: unknown): void {
    if (Array.isArray(orderBy)) {
      for (const item of orderBy) this.orderBy(model, item)
      return
    }
    if (!isRecord(orderBy)) return
    for (const [name, value] of Object.entries(orderBy)) {
      const relation = model.relations.get(name)
      if (relation === undefined) continue
      const target = this.relation(model, relation)
      // `{ posts: { _count: 'desc' } }` or `{ author: { name: 'asc' } }`
      if (target !== undefined && isRecord(value)) this.orderBy(target, value)
    }
  }
}
