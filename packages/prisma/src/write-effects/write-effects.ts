import {
  bulkWriteTags,
  columnAnyTag,
  columnTag,
  isTaggableValue,
  tableTag,
  unnamedMemberTag,
} from '@ormcache/core/adapter'
import type { DataModel, ModelInfo, RelationInfo } from '../schema/data-model.js'
import {
  isRecord,
  type KeyValues,
  keyFromRow,
  keyFromWhere,
  keyRowTag,
  writesKey,
} from '../schema/primary-key.js'
import { keptTags } from './kept-values.js'
import { deletedTags, leftTags } from './left-values.js'
import { linkTags } from './m2m-links.js'
import { deleteCascadeTags, updateCascadeTags } from './referential.js'

export interface WriteEffects {
  tags: Set<string>
  /** Something unnameable changed: invalidate the whole namespace. */
  everything: boolean
}

/**
 * Everything a committed mutation may have changed (design §3): its table; the row tags of the
 * rows it names by primary key (old and new key when the key changes), or the bulk tag when the
 * rows are unknown; every table touched by nested writes at any depth; and the dependents that
 * referential actions rewrite. `result` is what Prisma returned, used for keys of created rows.
 */
export function writeEffects(
  dataModel: DataModel,
  model: ModelInfo,
  operation: string,
  args: Record<string, unknown>,
  result: unknown,
): WriteEffects {
  const effects = new Effects(dataModel)
  const tags = effects.tags
  tags.add(tableTag(model.table))
  const data = args.data
  switch (operation) {
    case 'create':
      effects.rows(model, [keyFromRow(model, result) ?? keyFromWhere(model, data)])
      effects.values(model, result, [...model.pinnable])
      effects.nested(model, data, keyFromRow(model, result))
      break
    case 'createMany':
      effects.bulk(model.table)
      break
    case 'createManyAndReturn':
      effects.rows(model, Array.isArray(result) ? result.map((row) => keyFromRow(model, row)) : [undefined])
      for (const row of Array.isArray(result) ? result : [undefined])
        effects.values(model, row, [...model.pinnable])
      break
    case 'update': {
      const changed = changedFields(model, data)
      effects.update(model, args.where, data, result, changed)
      effects.values(model, result, changed)
      leftTags(model, changed, tags)
      keptTags(model, result, changed, tags)
      effects.nested(model, data, writesKey(model, data) ? undefined : keyFromRow(model, result))
      break
    }
    case 'upsert': {
      const changed = changedFields(model, args.update)
      effects.update(model, args.where, args.update, result, changed)
      leftTags(model, changed, tags)
      keptTags(model, result, changed, tags)
      // It may have created the row: every pinnable column takes a value.
      effects.values(model, result, [...model.pinnable])
      effects.nested(model, args.create)
      effects.nested(model, args.update)
      break
    }
    case 'updateMany':
    case 'updateManyAndReturn':
      effects.bulk(model.table)
      updateCascadeTags(dataModel, model, changedFields(model, data), tags)
      break
    case 'delete':
      effects.rows(model, [keyFromWhere(model, args.where) ?? keyFromRow(model, result)])
      deletedTags(model, result, tags)
      deleteCascadeTags(dataModel, model, tags)
      break
    case 'deleteMany':
      effects.bulk(model.table)
      deleteCascadeTags(dataModel, model, tags)
      break
    default:
      return { tags, everything: true }
  }
  return { tags, everything: false }
}

/** Scalar and foreign-key fields a `data` object writes (for onUpdate referential actions). */
export function changedFields(model: ModelInfo, data: unknown): string[] {
  if (!isRecord(data)) return []
  const fields: string[] = []
  for (const [name, value] of Object.entries(data)) {
    if (value === undefined) continue
    if (model.columns.has(name)) fields.push(name)
    const relation = model.relations.get(name)
    if (relation?.holdsForeignKey) fields.push(...relation.foreignKeyFields)
  }
  return fields
}

class Effects {
  readonly tags = new Set<string>()

  constructor(private readonly dataModel: DataModel) {}

  bulk(table: string): void {
    for (const tag of bulkWriteTags(table)) this.tags.add(tag)
  }

  /**
   * Column-value tags of the values `fields` now hold in `row` (the row Prisma returned), or the
   * column-any tag where the row does not show the value (docs/design.md, "Precision").
   */
  values(model: ModelInfo, row: unknown, fields: readonly string[]): void {
    for (const field of fields) {
      if (!model.pinnable.has(field)) continue
      const column = model.columns.get(field)!
      const value = isRecord(row) ? row[field] : undefined
      this.tags.add(
        isTaggableValue(value) ? columnTag(model.table, column, value) : columnAnyTag(model.table, column),
      )
    }
  }

  /** Row tags for known keys; the bulk tag as soon as one row is unknown. */
  rows(model: ModelInfo, keys: readonly (KeyValues | undefined)[]): void {
    this.tags.add(tableTag(model.table))
    for (const key of keys) {
      if (key === undefined) this.bulk(model.table)
      else this.tags.add(keyRowTag(model, key))
    }
  }

  /** `changed`: changedFields(model, data), which the caller computed already. */
  update(model: ModelInfo, where: unknown, data: unknown, result: unknown, changed: readonly string[]): void {
    const before = keyFromWhere(model, where)
    const after = keyFromRow(model, result)
    const keyChanges = writesKey(model, data)
    if (before !== undefined) this.tags.add(keyRowTag(model, before))
    if (after !== undefined) this.tags.add(keyRowTag(model, after))
    // The old identity is unknown when the key changed and the where did not name it.
    if (
      (before === undefined && (after === undefined || keyChanges)) ||
      (keyChanges && after === undefined)
    ) {
      this.bulk(model.table)
    }
    updateCascadeTags(this.dataModel, model, changed, this.tags)
  }

  /** `key`: the key of the row `data` writes, when known (top-level writes only). */
  nested(model: ModelInfo, data: unknown, key?: KeyValues): void {
    if (Array.isArray(data)) {
      for (const item of data) this.nested(model, item)
      return
    }
    if (!isRecord(data)) return
    for (const [name, value] of Object.entries(data)) {
      const relation = model.relations.get(name)
      if (relation === undefined || !isRecord(value)) continue
      const target = this.dataModel.models.get(relation.target)
      if (
        relation.joinTable !== undefined &&
        (target === undefined || !linkTags(model, key, relation.joinTable, target, value, this.tags))
      )
        this.bulk(relation.joinTable)
      if (target === undefined) {
        this.bulk(relation.target)
        continue
      }
      for (const [operation, payload] of Object.entries(value)) {
        if (payload === undefined) continue
        this.nestedOperation(model, relation, target, operation, payload)
      }
    }
  }

  private nestedOperation(
    model: ModelInfo,
    relation: RelationInfo,
    target: ModelInfo,
    operation: string,
    payload: unknown,
  ): void {
    const items = Array.isArray(payload) ? payload : [payload]
    switch (operation) {
      case 'create':
        this.bulk(target.table)
        for (const item of items) this.nested(target, item)
        break
      case 'createMany':
        this.bulk(target.table)
        break
      case 'connectOrCreate':
        this.bulk(target.table)
        for (const item of items) if (isRecord(item)) this.nested(target, item.create)
        this.relink(model, relation, target, [undefined])
        break
      case 'upsert':
        this.bulk(target.table)
        for (const item of items) {
          if (!isRecord(item)) continue
          this.nested(target, item.create)
          this.nested(target, item.update)
          updateCascadeTags(this.dataModel, target, changedFields(target, item.update), this.tags)
        }
        break
      case 'update':
        for (const item of items) {
          if (!isRecord(item)) continue
          const wrapped = isRecord(item.data) && Object.keys(item).every((k) => k === 'where' || k === 'data')
          const data = relation.isList || wrapped ? item.data : item
          this.rows(target, [relation.isList ? keyFromWhere(target, item.where) : undefined])
          this.values(target, undefined, changedFields(target, data))
          leftTags(target, changedFields(target, data), this.tags)
          // It returns no row of the target: the values that row kept go unnamed.
          this.tags.add(unnamedMemberTag(target.table))
          this.nested(target, data)
          updateCascadeTags(this.dataModel, target, changedFields(target, data), this.tags)
        }
        break
      case 'updateMany':
        this.bulk(target.table)
        for (const item of items) {
          if (isRecord(item)) {
            updateCascadeTags(this.dataModel, target, changedFields(target, item.data), this.tags)
          }
        }
        break
      case 'delete':
        this.rows(
          target,
          items.map((item) => (relation.isList ? keyFromWhere(target, item) : undefined)),
        )
        deletedTags(target, undefined, this.tags)
        deleteCascadeTags(this.dataModel, target, this.tags)
        break
      case 'deleteMany':
        this.bulk(target.table)
        deleteCascadeTags(this.dataModel, target, this.tags)
        break
      case 'connect':
      case 'disconnect':
        this.relink(
          model,
          relation,
          target,
          items.map((item) => (relation.isList ? keyFromWhere(target, item) : undefined)),
        )
        break
      case 'set':
        this.relink(model, relation, target, [undefined])
        break
    }
  }

  /** connect / disconnect / set rewrite foreign keys: on the target rows, or on this model's row. */
  private relink(
    model: ModelInfo,
    relation: RelationInfo,
    target: ModelInfo,
    keys: readonly (KeyValues | undefined)[],
  ): void {
    if (relation.joinTable !== undefined) return
    if (relation.holdsForeignKey) {
      // This row's own foreign key (bumped by the caller); in a one-to-one, the row that held
      // the target before loses it too.
      if (!relation.oppositeIsList) this.bulk(model.table)
      return
    }
    // The foreign key is on the target. To-one: the previously linked target row changes too.
    this.rows(target, relation.isList ? keys : [undefined])
    this.values(target, undefined, foreignKeyOf(target, relation))
    leftTags(target, foreignKeyOf(target, relation), this.tags)
    this.tags.add(unnamedMemberTag(target.table))
    updateCascadeTags(this.dataModel, target, foreignKeyOf(target, relation), this.tags)
  }
}

function foreignKeyOf(target: ModelInfo, relation: RelationInfo): string[] {
  for (const candidate of target.relations.values()) {
    if (candidate.relationName === relation.relationName && candidate.holdsForeignKey) {
      return candidate.foreignKeyFields
    }
  }
  return []
}
