import type { DataModel, ModelInfo, RelationInfo } from '../schema/data-model.js'
import { isRecord } from '../schema/primary-key.js'

/**
 * The implicit join table of a many-to-many relation loaded for its parents, seen from the
 * parent: each join row `(parentColumn = p, childColumn = c)` links parent `p` to child `c`
 * (docs/design.md, "Many-to-many relations").
 */
export interface JoinLoad {
  table: string
  /** `A` or `B`: the column holding the parent's key. */
  parentColumn: string
  /** The other column: the child's key. */
  childColumn: string
  /** The parent's (single) key field, whose value pins `parentColumn`. */
  parentKey: string
  /** The child's (single) key field: the join row's other half. */
  childKey: string
}

/**
 * The join part of a many-to-many load of `relation` on rows of `parent`, or undefined when it
 * does not qualify: not an implicit many-to-many, a self-relation, keys that are not one
 * pinnable field on each side, or rows that do not return those keys. Prisma names the join
 * table's columns `A` (the model whose name sorts first) and `B`, each referencing that model's id.
 */
export function joinLoad(
  dataModel: DataModel,
  parent: ModelInfo,
  parentArgs: Record<string, unknown>,
  relation: RelationInfo,
  args: Record<string, unknown>,
): JoinLoad | undefined {
  const target = dataModel.models.get(relation.target)
  if (relation.joinTable === undefined || target === undefined || target.name === parent.name)
    return undefined
  const parentKey = singlePinnableKey(parent)
  const childKey = singlePinnableKey(target)
  if (parentKey === undefined || childKey === undefined) return undefined
  if (!returns(parentArgs, parentKey) || !returns(args, childKey)) return undefined
  const parentFirst = parent.name < target.name
  return {
    table: relation.joinTable,
    parentColumn: parentFirst ? 'A' : 'B',
    childColumn: parentFirst ? 'B' : 'A',
    parentKey,
    childKey,
  }
}

/** The join columns (parent side, child side) of an implicit many-to-many seen from `model`. */
export function joinColumns(model: ModelInfo, target: ModelInfo): [string, string] {
  return model.name < target.name ? ['A', 'B'] : ['B', 'A']
}

function singlePinnableKey(model: ModelInfo): string | undefined {
  const fields = model.primaryKey?.fields
  return fields?.length === 1 && model.pinnable.has(fields[0]!) ? fields[0] : undefined
}

function returns(args: Record<string, unknown>, field: string): boolean {
  if (isRecord(args.select)) return args.select[field] === true
  return !(isRecord(args.omit) && args.omit[field] === true)
}
