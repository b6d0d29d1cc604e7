import { AdapterError } from '@ormcache/core'
import {
  bulkTag,
  columnAnyTag,
  columnLeftTag,
  columnTag,
  memberTag,
  rowTag,
  unnamedMemberTag,
} from '@ormcache/core/adapter'
import type { DataModel, ModelInfo, RelationInfo } from '../schema/data-model.js'
import { isRecord, keyFromRow, keyRowTag } from '../schema/primary-key.js'
import { type JoinLoad, joinLoad } from './m2m-loads.js'

/**
 * A relation loaded for the rows of its parent (`include: { posts: true }`, `include: { author:
 * true }`). When it is `precise`, the loaded rows depend on the target table's column-value tags
 * of the pinned columns for the parent values actually loaded and on the loaded rows' row tags, learned after the load and guarded
 * by the child table tag (docs/design.md, "Relations loaded for parents"); otherwise its table
 * tag is a plain dependency and only its nested loads may be precise.
 */
export interface RelationLoad {
  /** Relation field on the parent rows. */
  field: string
  target: ModelInfo
  /** To-one: the loaded value is one target row or null, not a list. */
  single: boolean
  /** Parent fields whose values pin `foreignKeyColumns`, paired by position. */
  references: string[]
  /**
   * Target columns pinned to the parent's values: the child's foreign key (to-many, and the
   * one-to-one side without the key), or the target's referenced columns (to-one holding the key).
   */
  foreignKeyColumns: string[]
  precise: boolean
  /**
   * A precise to-many load on one foreign-key column whose children depend on the member tag of
   * each parent's value instead of on their row tags (`listTags: 'members'`, docs/design.md
   * "Lists without row tags").
   */
  members?: boolean
  nested: RelationLoad[]
  /** Many-to-many: the join rows link parents to children (m2m-loads.ts). */
  join?: JoinLoad
}

/** Arguments of a relation load that keep it "every child of the parent" (no filter, no page). */
const LOAD_ARGS = new Set(['include', 'select', 'omit', 'orderBy'])

/**
 * The load plan of `relation` selected with `value` on rows of `parent` read with `parentArgs`,
 * or undefined when it does not qualify: many-to-many (join table rows have no key to tag; they
 * keep table tags), a self-relation or one back to the read's root table, a
 * pin on non-pinnable columns, a `where`/`take`/`skip`/`cursor`/`distinct`, an ordering
 * through another relation, or a selection that drops the parent's referenced fields or the
 * child's primary key.
 */
export function relationLoad(
  dataModel: DataModel,
  root: ModelInfo,
  parent: ModelInfo,
  parentArgs: Record<string, unknown>,
  relation: RelationInfo,
  value: unknown,
): RelationLoad | undefined {
  const target = dataModel.models.get(relation.target)
  if (target === undefined || target.isView) return undefined
  if (target.table === parent.table || target.table === root.table) return undefined
  if (relation.joinTable !== undefined)
    return manyToMany(dataModel, parent, parentArgs, relation, target, value)
  if (relation.isList && relation.holdsForeignKey) return undefined
  // The pin `target.pinned = parent.values`: the child's foreign key = the parent's referenced
  // fields (to-many, and the side of a one-to-one without the key), or the target's referenced
  // fields = the parent's own foreign key (to-one on the side holding the key).
  let parentFields: string[]
  let pinnedFields: string[]
  if (relation.holdsForeignKey) {
    const referenced = target.dependents.find(
      (d) => d.model === parent.name && sameList(d.fields, relation.foreignKeyFields),
    )
    if (referenced === undefined || referenced.references.length !== relation.foreignKeyFields.length)
      return undefined
    parentFields = relation.foreignKeyFields
    pinnedFields = referenced.references
  } else {
    const opposite = [...target.relations.values()].find(
      (r) => r.relationName === relation.relationName && r.holdsForeignKey && r.target === parent.name,
    )
    const fields = opposite?.foreignKeyFields ?? []
    const dependent = parent.dependents.find(
      (d) => d.model === target.name && sameList(d.fields, fields) && d.references.length === fields.length,
    )
    if (dependent === undefined) return undefined
    parentFields = dependent.references
    pinnedFields = fields
  }
  if (pinnedFields.length === 0 || !pinnedFields.every((f) => target.pinnable.has(f))) return undefined
  if (!parentFields.every((f) => parent.columns.has(f) && returnsField(parentArgs, f))) return undefined
  const args = value === true ? {} : value
  if (!isRecord(args) || Object.keys(args).some((k) => args[k] !== undefined && !LOAD_ARGS.has(k)))
    return undefined
  if (!scalarOrder(target, args.orderBy)) return undefined
  if (target.primaryKey === undefined || !target.primaryKey.fields.every((f) => returnsField(args, f)))
    return undefined
  return {
    field: relation.field,
    target,
    single: !relation.isList,
    references: parentFields,
    foreignKeyColumns: pinnedFields.map((f) => target.columns.get(f)!),
    precise: true,
    nested: [],
  }
}

/**
 * A many-to-many load: the join rows pinned to each parent's key, and the children they name
 * (docs/design.md, "Many-to-many relations"). The same argument restrictions as other loads.
 */
function manyToMany(
  dataModel: DataModel,
  parent: ModelInfo,
  parentArgs: Record<string, unknown>,
  relation: RelationInfo,
  target: ModelInfo,
  value: unknown,
): RelationLoad | undefined {
  const args = value === true ? {} : value
  if (!isRecord(args) || Object.keys(args).some((k) => args[k] !== undefined && !LOAD_ARGS.has(k)))
    return undefined
  if (!scalarOrder(target, args.orderBy)) return undefined
  const join = joinLoad(dataModel, parent, parentArgs, relation, args)
  if (join === undefined) return undefined
  return {
    field: relation.field,
    target,
    single: false,
    references: [join.parentKey],
    foreignKeyColumns: [],
    precise: true,
    nested: [],
    join,
  }
}

/**
 * Marks the loads whose children can depend on member tags: precise, to-many, not through a join
 * table, pinned on one foreign-key column (the children of a parent are then exactly the rows
 * holding its value, a one-pin list).
 */
export function useMemberTags(loads: readonly RelationLoad[]): void {
  for (const load of loads) {
    if (load.precise && !load.single && load.join === undefined && load.foreignKeyColumns.length === 1)
      load.members = true
    useMemberTags(load.nested)
  }
}

/**
 * Pre-load tags of the precise loads: the bulk tag and the foreign-key column-any tags; for a
 * load on member tags also the column-left tag of its foreign key (a child leaving a parent by a
 * write that cannot name the old value) and the unnamed-member tag.
 */
export function relationPreloadTags(loads: readonly RelationLoad[], tags: Set<string>): void {
  for (const load of loads) {
    if (load.precise) {
      if (load.join !== undefined) {
        tags.add(bulkTag(load.join.table))
        tags.add(columnAnyTag(load.join.table, load.join.parentColumn))
      }
      tags.add(bulkTag(load.target.table))
      for (const column of load.foreignKeyColumns) tags.add(columnAnyTag(load.target.table, column))
      if (load.members === true) {
        tags.add(columnLeftTag(load.target.table, load.foreignKeyColumns[0]!))
        tags.add(unnamedMemberTag(load.target.table))
      }
    }
    relationPreloadTags(load.nested, tags)
  }
}

/** Tables of the precise loads (their table tags guard the after-load tags). */
export function preciseTables(loads: readonly RelationLoad[], tables: Set<string>): void {
  for (const load of loads) {
    if (load.precise) {
      tables.add(load.target.table)
      if (load.join !== undefined) tables.add(load.join.table)
    }
    preciseTables(load.nested, tables)
  }
}

/**
 * After-load tags of `loads` for the loaded `rows`: for each parent row, the child foreign-key
 * column-value tags of its referenced values (none when one is null: SQL equality matches no
 * child then), and each loaded child's row tag. Throws when a row lacks a field it must have.
 */
export function relationTags(loads: readonly RelationLoad[], rows: unknown, out: string[]): void {
  if (loads.length === 0) return
  const list = Array.isArray(rows) ? rows : rows === null || rows === undefined ? [] : [rows]
  for (const row of list) {
    if (!isRecord(row)) throw malformed('a parent row is not an object')
    for (const load of loads) {
      const loaded = row[load.field]
      const children = load.single ? (loaded === null ? [] : [loaded]) : loaded
      if (!Array.isArray(children)) throw malformed(`"${load.field}" is not a list`)
      if (load.single && loaded === undefined) throw malformed(`"${load.field}" is missing`)
      if (load.precise) {
        const values = load.references.map((f) => row[f])
        if (values.some((v) => v === undefined)) throw malformed('a parent row lacks a referenced field')
        if (!values.includes(null)) {
          load.foreignKeyColumns.forEach((column, i) => {
            out.push(columnTag(load.target.table, column, values[i]))
          })
          // Children that change and stay: the member tag of the value they keep.
          if (load.members === true)
            out.push(memberTag(load.target.table, load.foreignKeyColumns[0]!, values[0]))
        }
        const join = load.join
        if (join !== undefined && values[0] !== null)
          out.push(columnTag(join.table, join.parentColumn, values[0]))
        // On member tags the children need no row tags of their own.
        if (load.members !== true)
          for (const child of children) {
            const key = keyFromRow(load.target, child)
            if (key === undefined) throw malformed('a child row lacks its key')
            out.push(keyRowTag(load.target, key))
            // The join row linking this parent to this child: its key is both halves.
            if (join !== undefined)
              out.push(
                rowTag(join.table, {
                  [join.parentColumn]: values[0],
                  [join.childColumn]: key[join.childKey],
                }),
              )
          }
      }
      relationTags(load.nested, children, out)
    }
  }
}

/** True when rows read with `args` carry `field` (`select` names it, `omit` does not drop it). */
export function returnsField(args: Record<string, unknown>, field: string): boolean {
  if (isRecord(args.select)) return args.select[field] === true
  return !(isRecord(args.omit) && args.omit[field] === true)
}

/** `orderBy` over the target's own scalar fields only (a relation ordering reads another table). */
function scalarOrder(model: ModelInfo, orderBy: unknown): boolean {
  if (orderBy === undefined) return true
  const items = Array.isArray(orderBy) ? orderBy : [orderBy]
  return items.every(
    (item) =>
      isRecord(item) &&
      Object.entries(item).every(
        ([name, direction]) =>
          model.columns.has(name) &&
          (direction === 'asc' || direction === 'desc' || (isRecord(direction) && 'sort' in direction)),
      ),
  )
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i])
}

function malformed(message: string): AdapterError {
  return new AdapterError('after-load', new TypeError(message))
}
