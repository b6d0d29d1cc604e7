import { bulkWriteTags } from '@ormcache/core/adapter'
import type { DataModel, ModelInfo } from '../schema/data-model.js'

/**
 * Tables that change, beyond the written one, when rows of `model` are deleted or their
 * referenced columns updated: dependents with Cascade / SetNull / SetDefault (followed through
 * further cascades), and implicit many-to-many join tables. Their rows are unknown, so they get
 * table and bulk tags. Restrict and NoAction change nothing (the write fails instead).
 */
export function deleteCascadeTags(dataModel: DataModel, model: ModelInfo, tags: Set<string>): void {
  walk(dataModel, model, 'delete', undefined, tags, new Set())
}

/** `changed` = fields written on `model` (undefined: unknown, e.g. raw SQL). */
export function updateCascadeTags(
  dataModel: DataModel,
  model: ModelInfo,
  changed: readonly string[] | undefined,
  tags: Set<string>,
): void {
  walk(dataModel, model, 'update', changed, tags, new Set())
}

function walk(
  dataModel: DataModel,
  model: ModelInfo,
  kind: 'delete' | 'update',
  changed: readonly string[] | undefined,
  tags: Set<string>,
  seen: Set<string>,
): void {
  const visit = `${kind}:${model.name}:${changed?.join(',') ?? '*'}`
  if (seen.has(visit)) return
  seen.add(visit)

  const keyChanged =
    kind === 'delete' ||
    changed === undefined ||
    (model.primaryKey?.fields.some((f) => changed.includes(f)) ?? true)
  if (keyChanged) for (const join of model.joinTables) add(tags, join)

  for (const dependent of model.dependents) {
    const action = kind === 'delete' ? dependent.onDelete : dependent.onUpdate
    if (action === 'Restrict' || action === 'NoAction') continue
    if (
      kind === 'update' &&
      changed !== undefined &&
      !dependent.references.some((f) => changed.includes(f))
    ) {
      continue
    }
    const target = dataModel.models.get(dependent.model)
    if (target === undefined) continue
    add(tags, target.table)
    if (kind === 'delete' && action === 'Cascade') {
      walk(dataModel, target, 'delete', undefined, tags, seen)
    } else {
      // SetNull / SetDefault / update Cascade rewrite the dependent's foreign-key columns.
      walk(dataModel, target, 'update', dependent.fields, tags, seen)
    }
  }
}

function add(tags: Set<string>, table: string): void {
  for (const tag of bulkWriteTags(table)) tags.add(tag)
}
