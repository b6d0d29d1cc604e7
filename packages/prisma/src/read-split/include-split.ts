import { relationLoad } from '../read-deps/relation-loads.js'
import type { DataModel, ModelInfo } from '../schema/data-model.js'
import { isRecord } from '../schema/primary-key.js'

/**
 * An included relation loaded as its own cached read (docs/design.md, "Included relations
 * assembled from cached parts"): the children of the loaded parents are
 * `target.findMany({ where: { childField: { in: parent values } }, ...args })`, grouped by
 * `childField` under the parent whose `parentField` holds that value.
 */
export interface SplitRelation {
  field: string
  target: ModelInfo
  /** To-one: one row or null per parent, not a list. */
  single: boolean
  parentField: string
  childField: string
  /** The relation's own arguments (select/include/omit/orderBy), `childField` returned. */
  childArgs: Record<string, unknown>
  /** `childField` was added to the children's selection: removed again before stitching. */
  stripChild: boolean
  /** Runs the child read past the query extensions that would not see it inside an include. */
  query: ChildQuery
}

/** `findMany` of a relation's target on the client the extension extends. */
export type ChildQuery = (args: unknown) => PromiseLike<unknown>

export interface SplitPlan {
  /** The parent read: the caller's arguments without the split relations, referenced fields returned. */
  parentArgs: Record<string, unknown>
  /** Parent fields added to its selection, removed again from the result. */
  stripParent: string[]
  relations: SplitRelation[]
}

const SPLIT_OPERATIONS = new Set(['findMany', 'findFirst', 'findUnique'])

/**
 * How to assemble the read `args` of `model` from a parent read and one child read per included
 * relation, or undefined to load it with Prisma as it is. A relation qualifies when
 * `relationLoad` makes it a precise load (not many-to-many, not a self-relation, no `where`,
 * page or relation ordering in its arguments, the child's key returned), its pin is one field,
 * and `childQuery` gives a way to run the child read without other query extensions in between
 * (asked once per relation: the plan keeps it for the assembly). The read itself must not pick a
 * relation load strategy (`join` is one statement: atomic, which the assembly is not).
 */
export function splitPlan(
  dataModel: DataModel,
  model: ModelInfo,
  operation: string,
  args: Record<string, unknown>,
  childQuery: (target: ModelInfo) => ChildQuery | undefined,
): SplitPlan | undefined {
  if (!SPLIT_OPERATIONS.has(operation) || args.relationLoadStrategy !== undefined) return undefined
  const kind = isRecord(args.select) ? 'select' : isRecord(args.include) ? 'include' : undefined
  if (kind === undefined) return undefined
  const selection = args[kind] as Record<string, unknown>
  const relations: SplitRelation[] = []
  const kept: Record<string, unknown> = {}
  for (const [name, value] of Object.entries(selection)) {
    const split =
      value === undefined || value === false
        ? undefined
        : splitRelation(dataModel, model, name, value, childQuery)
    if (split !== undefined) relations.push(split)
    else kept[name] = value
  }
  if (relations.length === 0) return undefined

  const parentArgs: Record<string, unknown> = { ...args }
  const stripParent: string[] = []
  const references = [...new Set(relations.map((r) => r.parentField))]
  if (kind === 'select') {
    for (const field of references) {
      if (kept[field] === true) continue
      kept[field] = true
      stripParent.push(field)
    }
    parentArgs.select = kept
  } else {
    if (Object.keys(kept).length === 0) delete parentArgs.include
    else parentArgs.include = kept
    const omit = isRecord(args.omit) ? { ...args.omit } : undefined
    if (omit !== undefined) {
      for (const field of references) {
        if (omit[field] !== true) continue
        delete omit[field]
        stripParent.push(field)
      }
      parentArgs.omit = omit
    }
  }
  return { parentArgs, stripParent, relations }
}

function splitRelation(
  dataModel: DataModel,
  model: ModelInfo,
  name: string,
  value: unknown,
  childQuery: (target: ModelInfo) => ChildQuery | undefined,
): SplitRelation | undefined {
  const relation = model.relations.get(name)
  if (relation === undefined) return undefined
  // The parent's selection is rebuilt to return the referenced fields, so judge it as returning all.
  const load = relationLoad(dataModel, model, model, {}, relation, value)
  if (load === undefined || load.join !== undefined || load.references.length !== 1) return undefined
  const column = load.foreignKeyColumns[0]
  const childField = [...load.target.columns].find(([, c]) => c === column)?.[0]
  if (childField === undefined) return undefined
  const query = childQuery(load.target)
  if (query === undefined) return undefined
  const childArgs: Record<string, unknown> = value === true ? {} : { ...(value as Record<string, unknown>) }
  let stripChild = false
  if (isRecord(childArgs.select)) {
    if (childArgs.select[childField] !== true) {
      childArgs.select = { ...childArgs.select, [childField]: true }
      stripChild = true
    }
  } else if (isRecord(childArgs.omit) && childArgs.omit[childField] === true) {
    const { [childField]: _returned, ...omit } = childArgs.omit
    childArgs.omit = omit
    stripChild = true
  }
  return {
    field: name,
    target: load.target,
    single: load.single,
    parentField: load.references[0]!,
    childField,
    childArgs,
    stripChild,
    query,
  }
}

/** Reads a relation's child rows through the cache (the extension's own read path) with its `query`. */
export type NestedRead = (relation: SplitRelation, args: Record<string, unknown>) => Promise<unknown>

/**
 * Loads the parent rows with `readParent`, then each split relation's children with one
 * `readChildren` for all parents, and stitches them on: per parent, the children whose
 * `childField` equals its `parentField`, in the child read's order (Prisma's own include sends
 * that very statement: `WHERE fk IN (parent values)`, and no ORDER BY unless the relation has one).
 */
export async function assembleSplit(
  plan: SplitPlan,
  readParent: (args: Record<string, unknown>) => Promise<unknown>,
  readChildren: NestedRead,
  clone: <T>(value: T) => T,
): Promise<unknown> {
  const loaded = await readParent(plan.parentArgs)
  const parents = (
    Array.isArray(loaded) ? loaded : loaded === null || loaded === undefined ? [] : [loaded]
  ) as Record<string, unknown>[]
  const children = await Promise.all(
    plan.relations.map((relation) => childrenOf(relation, parents, readChildren)),
  )
  // Parents sharing a to-one row get copies, as Prisma hands out one object per parent.
  const used = new Set<unknown>()
  for (const parent of parents) {
    plan.relations.forEach((relation, i) => {
      const value = parent[relation.parentField]
      const rows = value === null || value === undefined ? undefined : children[i]!.get(pinKey(value))
      if (!relation.single) {
        parent[relation.field] = rows ?? []
        return
      }
      const row = rows?.[0] ?? null
      parent[relation.field] = row !== null && used.has(row) ? clone(row) : row
      used.add(row)
    })
    for (const field of plan.stripParent) delete parent[field]
  }
  return loaded
}

async function childrenOf(
  relation: SplitRelation,
  parents: readonly Record<string, unknown>[],
  readChildren: NestedRead,
): Promise<Map<string, Record<string, unknown>[]>> {
  const values = new Map<string, unknown>()
  for (const parent of parents) {
    const value = parent[relation.parentField]
    // SQL equality matches no child for a null reference.
    if (value !== null && value !== undefined && !values.has(pinKey(value))) values.set(pinKey(value), value)
  }
  const grouped = new Map<string, Record<string, unknown>[]>()
  if (values.size === 0) return grouped
  const rows = (await readChildren(relation, {
    ...relation.childArgs,
    where: { [relation.childField]: { in: [...values.values()].sort(ascending) } },
  })) as Record<string, unknown>[]
  for (const row of rows) {
    const key = pinKey(row[relation.childField])
    if (relation.stripChild) delete row[relation.childField]
    const list = grouped.get(key)
    if (list === undefined) grouped.set(key, [row])
    else list.push(row)
  }
  return grouped
}

/**
 * The child read's key names the parent values in ascending order, so a parent read that comes
 * back reordered (an update moved a row in the heap) still hits it. The rows' order does not
 * depend on the list's order: PostgreSQL sorts the values of `IN` for an index scan and returns
 * heap order otherwise; SQLite iterates an `IN` list through a sorted ephemeral index or scans
 * the table.
 */
function ascending(a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b
  return a === b ? 0 : (a as number | bigint | boolean) < (b as number | bigint | boolean) ? -1 : 1
}

/** Pinnable values are integers (number or bigint) and booleans: equal values, equal strings. */
function pinKey(value: unknown): string {
  return `${typeof value === 'boolean' ? 'b' : 'n'}${String(value)}`
}
