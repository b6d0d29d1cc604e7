import type { ModelInfo } from '../schema/data-model.js'
import { isRecord } from '../schema/primary-key.js'
import { disjunction, PAGING, pinTags } from './pins.js'

/**
 * The tags of a count over a filter that is only pins (docs/design.md, "Counts: rows that leave a
 * pin"): `b:T`, and for every pinned column the column-value tag of every pin, the column-any tag
 * and the column-left tag. Undefined when the read is not a count of the matching set: any
 * aggregate other than the row count, a count of a field, a page, a `having`, a `groupBy` by a
 * column some branch does not pin, a filter that is not only pins. All its tags are known before
 * the load, so it has no after-load part.
 */
export function pinnedCountTags(
  model: ModelInfo,
  operation: string,
  args: Record<string, unknown>,
): string[] | undefined {
  if (PAGING.some((name) => args[name] !== undefined)) return undefined
  let by: string[] = []
  switch (operation) {
    case 'count':
      if (!onlyKeys(args, ['where', 'select', 'orderBy']) || !countsRows(args.select, true)) return undefined
      break
    case 'aggregate':
      if (!onlyKeys(args, ['where', 'orderBy', '_count']) || !countsRows(args._count, false)) return undefined
      if (args._count === undefined) return undefined
      break
    case 'groupBy': {
      if (!onlyKeys(args, ['where', 'by', 'orderBy', '_count']) || !countsRows(args._count, false))
        return undefined
      by = Array.isArray(args.by) ? args.by.map(String) : typeof args.by === 'string' ? [args.by] : []
      if (by.length === 0 || !orderedBy(args.orderBy, by)) return undefined
      break
    }
    default:
      return undefined
  }
  const branches = disjunction(model, args.where)
  if (branches === undefined || branches.some((branch) => branch.size === 0)) return undefined
  // Each group is then a pinned set; a row can change group only by changing a pinned column.
  if (by.some((field) => branches.some((branch) => !branch.has(field)))) return undefined
  return pinTags(model, branches, true)
}

/**
 * `count`'s `select` (undefined, `true`, or `{ _all: true }`) or an `_count` of aggregate/groupBy
 * (`true` or `{ _all: true }`): the number of rows, nothing that reads a field's values.
 */
function countsRows(selection: unknown, optional: boolean): boolean {
  if (selection === undefined) return optional
  if (selection === true) return true
  if (!isRecord(selection)) return false
  const selected = Object.entries(selection).filter(([, v]) => v !== undefined && v !== false)
  return selected.length > 0 && selected.every(([name, v]) => name === '_all' && v === true)
}

function onlyKeys(args: Record<string, unknown>, allowed: readonly string[]): boolean {
  return Object.keys(args).every((name) => args[name] === undefined || allowed.includes(name))
}

/** groupBy's orderBy, when present, names only `by` fields (ordering by an aggregate reads values). */
function orderedBy(orderBy: unknown, by: readonly string[]): boolean {
  if (orderBy === undefined) return true
  const items = Array.isArray(orderBy) ? orderBy : [orderBy]
  return items.every(
    (item) => isRecord(item) && Object.keys(item).every((name) => by.includes(name) && !isRecord(item[name])),
  )
}
