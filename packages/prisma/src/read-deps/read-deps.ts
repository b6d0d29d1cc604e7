import { AdapterError, type AfterLoad } from '@ormcache/core'
import { bulkTag, tableTag } from '@ormcache/core/adapter'
import type { DataModel, ModelInfo, RelationInfo } from '../schema/data-model.js'
import { isRecord, type KeyValues, keyFromRow, keyFromWhere, keyRowTag } from '../schema/primary-key.js'
import { pinnedCountTags } from './counts.js'
import { memberListTags, pinnedListTags } from './pins.js'
import {
  preciseTables,
  type RelationLoad,
  relationLoad,
  relationPreloadTags,
  relationTags,
  returnsField,
  useMemberTags,
} from './relation-loads.js'

export interface ReadDependencies {
  /** Tags the cached entry depends on. */
  tags: readonly string[]
  /** Set when the read is a primary-key lookup (row tag + bulk tag instead of the table tag). */
  key: KeyValues | undefined
  /**
   * Set for a pinned list (the row tags of the rows it returned, docs/design.md "Precision") and
   * for precise relation loads (foreign-key tags of the loaded parents and the children's row
   * tags, "Relations loaded for parents").
   */
  afterLoad?: AfterLoad
}

export interface ReadShape {
  /**
   * False for reads whose value is not the root model's rows (the fluent API,
   * `findUnique(…).posts()`) and for reads with caller-declared tags (which must stay plain
   * dependencies, never guards the entry drops): they use table tags only.
   */
  precise?: boolean
  /**
   * Pinned lists depend on member tags before their load instead of on their rows' tags after
   * it (the extension's `listTags: 'members'`).
   */
  members?: boolean
}

const KEY_LOOKUPS = new Set(['findUnique', 'findUniqueOrThrow', 'findFirst', 'findFirstOrThrow'])
const COUNTS = new Set(['count', 'aggregate', 'groupBy'])
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
  shape: ReadShape = {},
): ReadDependencies {
  const precise = shape.precise !== false
  const walker = new Walker(dataModel, precise)
  walker.args(model, args, true)
  const key = KEY_LOOKUPS.has(operation) ? keyFromWhere(model, args.where) : undefined
  const tags: string[] = []
  if (key !== undefined) {
    tags.push(keyRowTag(model, key), bulkTag(model.table))
    // Other rows of the same table (a self-relation) still need the table tag.
    if (walker.selfTouched) walker.tables.add(model.table)
    else walker.tables.delete(model.table)
  }
  // A count over pins touches no other table (a relation filter or ordering would add one).
  const counted =
    precise && COUNTS.has(operation) && walker.tables.size === 1 && walker.loads.length === 0
      ? pinnedCountTags(model, operation, args)
      : undefined
  if (counted !== undefined) return { tags: counted, key }
  const listed = precise && operation === 'findMany' && !walker.selfTouched
  const members = listed && shape.members === true ? memberListTags(model, args) : undefined
  const pins =
    listed && members === undefined && returnsKeys(model, args) ? pinnedListTags(model, args) : undefined
  if (members !== undefined || pins !== undefined) {
    tags.push(...(members ?? pins!))
    walker.tables.delete(model.table)
  }
  // A child table some other part of the read depends on as a whole keeps that dependency: its
  // table tag must not become a guard that the stored entry drops.
  demote(walker.loads, walker.tables)
  if (shape.members === true) useMemberTags(walker.loads)
  const preload = new Set<string>()
  relationPreloadTags(walker.loads, preload)
  tags.push(...preload)
  for (const table of walker.tables) tags.push(tableTag(table))
  const guarded = new Set<string>(pins === undefined ? [] : [model.table])
  preciseTables(walker.loads, guarded)
  if (guarded.size === 0) return { tags, key }
  return { tags, key, afterLoad: afterLoadOf(model, pins !== undefined, walker.loads, guarded) }
}

function demote(loads: readonly RelationLoad[], coarse: Set<string>): void {
  // A demoted many-to-many load depends on its join and target tables as a whole, which may
  // demote other loads of those tables: repeat until nothing changes.
  while (demoteOnce(loads, coarse)) {}
}

function demoteOnce(loads: readonly RelationLoad[], coarse: Set<string>): boolean {
  let changed = false
  for (const load of loads) {
    const join = load.join?.table
    if (load.precise && (coarse.has(load.target.table) || (join !== undefined && coarse.has(join)))) {
      load.precise = false
      if (join !== undefined) {
        coarse.add(join)
        coarse.add(load.target.table)
        changed = true
      }
    }
    if (demoteOnce(load.nested, coarse)) changed = true
  }
  return changed
}

/** The returned rows carry their primary key (select and omit leave it in). */
function returnsKeys(model: ModelInfo, args: Record<string, unknown>): boolean {
  const fields = model.primaryKey?.fields
  return fields?.every((f) => returnsField(args, f)) === true
}

function afterLoadOf(
  model: ModelInfo,
  pinned: boolean,
  loads: readonly RelationLoad[],
  tables: ReadonlySet<string>,
): AfterLoad {
  return {
    tables: [...tables],
    tags: (value) => {
      const out: string[] = []
      if (pinned) {
        if (!Array.isArray(value))
          throw new AdapterError('after-load', new TypeError('findMany returned no list'))
        for (const row of value) {
          const key = keyFromRow(model, row)
          if (key === undefined) throw new AdapterError('after-load', new TypeError('a row lacks its key'))
          out.push(keyRowTag(model, key))
        }
      }
      relationTags(loads, value, out)
      return out
    },
  }
}

class Walker {
  readonly tables = new Set<string>()
  /** Relation loads reached from the root through relation loads only (relation-loads.ts). */
  readonly loads: RelationLoad[] = []
  /** The root model's table was reached again through a relation. */
  selfTouched = false
  private root: ModelInfo | undefined
  /** Where relation loads found now go; undefined below a relation that is not a load. */
  private current: RelationLoad[] | undefined

  constructor(
    private readonly dataModel: DataModel,
    relationPrecision: boolean,
  ) {
    this.current = relationPrecision ? this.loads : undefined
  }

  args(model: ModelInfo, args: unknown, root = false, ownTable = true): void {
    if (root) this.root = model
    if (ownTable) this.tables.add(model.table)
    if (!isRecord(args)) return
    this.where(model, args.where)
    this.where(model, args.having)
    this.selection(model, args.select, args)
    this.selection(model, args.include, args)
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

  private selection(model: ModelInfo, selection: unknown, parentArgs: Record<string, unknown>): void {
    if (!isRecord(selection)) return
    for (const [name, value] of Object.entries(selection)) {
      if (value === false || value === undefined || value === null) continue
      if (name === '_count') {
        this.count(model, value)
        continue
      }
      const relation = model.relations.get(name)
      if (relation === undefined) continue
      const outer = this.current
      const load =
        outer === undefined
          ? undefined
          : relationLoad(this.dataModel, this.root!, model, parentArgs, relation, value)
      if (load !== undefined) {
        outer!.push(load)
        this.current = load.nested
        this.args(load.target, value, false, false)
      } else {
        const target = this.relation(model, relation)
        this.current = undefined
        if (target !== undefined && isRecord(value)) this.args(target, value)
      }
      this.current = outer
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
