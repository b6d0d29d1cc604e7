import {
  bulkTag,
  columnAnyTag,
  columnLeftTag,
  columnTag,
  isTaggableValue,
  memberTag,
  unnamedMemberTag,
} from '@ormcache/core/adapter'
import type { ModelInfo } from '../schema/data-model.js'
import { isRecord } from '../schema/primary-key.js'

/** One AND branch of a filter in disjunctive form: pinned field → value. */
export type Branch = Map<string, unknown>

/** More branches than this and the table tag is cheaper than the pins. */
const MAX_BRANCHES = 64
/** Arguments that page or deduplicate: a row outside the page can change it unnamed. */
export const PAGING = ['take', 'skip', 'cursor', 'distinct']

/**
 * The pre-load tags of a list whose filter is only equality pins (docs/design.md, "Precision"):
 * the column-value tag of every pin of every branch, the column-any tag of every pinned column,
 * and the bulk tag. Undefined when the read does not qualify (a branch that pins nothing, a
 * range, NOT, a relation filter, pagination, a field that is not pinnable).
 */
export function pinnedListTags(model: ModelInfo, args: Record<string, unknown>): string[] | undefined {
  const branches = pinnedBranches(model, args)
  return branches === undefined ? undefined : pinTags(model, branches, false)
}

/**
 * The same list without row tags (`listTags: 'members'`, docs/design.md "Lists without row
 * tags"): everything a pinned count depends on (pins, column-any and column-left tags, bulk tag),
 * plus the member tag of one pin per branch and the table's unnamed-member tag. All of them are
 * known before the load.
 */
export function memberListTags(model: ModelInfo, args: Record<string, unknown>): string[] | undefined {
  const branches = pinnedBranches(model, args)
  if (branches === undefined) return undefined
  const tags = pinTags(model, branches, true)
  for (const branch of branches) {
    const [field, value] = memberPin(branch)
    tags.push(memberTag(model.table, model.columns.get(field)!, value))
  }
  tags.push(unnamedMemberTag(model.table))
  return [...new Set(tags)]
}

/**
 * Any pin of a branch makes the rule sound; a boolean one is the least selective (every write to
 * a row holding that value would invalidate the list), so the first other pin is taken.
 */
function memberPin(branch: Branch): [string, unknown] {
  for (const pin of branch) if (typeof pin[1] !== 'boolean') return pin
  return branch.entries().next().value!
}

function pinnedBranches(model: ModelInfo, args: Record<string, unknown>): Branch[] | undefined {
  if (PAGING.some((name) => args[name] !== undefined)) return undefined
  const branches = disjunction(model, args.where)
  if (branches === undefined || branches.some((branch) => branch.size === 0)) return undefined
  return branches
}

/**
 * `b:T`, and for every pinned column of `branches` the column-value tag of each pin and the
 * column-any tag; with `leaving`, also the column-left tag (counts: "Counts: rows that leave a pin").
 */
export function pinTags(model: ModelInfo, branches: readonly Branch[], leaving: boolean): string[] {
  const tags = new Set<string>([bulkTag(model.table)])
  for (const branch of branches) {
    for (const [field, value] of branch) {
      const column = model.columns.get(field)!
      tags.add(columnTag(model.table, column, value))
      tags.add(columnAnyTag(model.table, column))
      if (leaving) tags.add(columnLeftTag(model.table, column))
    }
  }
  return [...tags]
}

/** The filter `where` as branches of pins, or undefined when it is not only pins. */
export function disjunction(model: ModelInfo, where: unknown): Branch[] | undefined {
  if (where === undefined) return [new Map()]
  if (!isRecord(where)) return undefined
  let branches: Branch[] = [new Map()]
  for (const [name, value] of Object.entries(where)) {
    if (value === undefined) continue
    let part: Branch[] | undefined
    if (name === 'AND') part = conjunction(model, Array.isArray(value) ? value : [value])
    else if (name === 'OR') part = Array.isArray(value) ? union(model, value) : undefined
    else if (model.pinnable.has(name)) part = fieldPins(name, value)
    else if (isCompoundKey(model, name, value)) part = disjunction(model, value)
    else part = undefined
    if (part === undefined) return undefined
    const next = product(branches, part)
    if (next === undefined) return undefined
    branches = next
  }
  return branches
}

function conjunction(model: ModelInfo, items: unknown[]): Branch[] | undefined {
  let branches: Branch[] | undefined = [new Map()]
  for (const item of items) {
    const part = disjunction(model, item)
    if (part === undefined) return undefined
    branches = product(branches!, part)
    if (branches === undefined) return undefined
  }
  return branches
}

function union(model: ModelInfo, items: unknown[]): Branch[] | undefined {
  const branches: Branch[] = []
  for (const item of items) {
    const part = disjunction(model, item)
    if (part === undefined) return undefined
    branches.push(...part)
  }
  return branches.length > MAX_BRANCHES ? undefined : branches
}

/** `field: 2`, `field: { equals: 2 }`, `field: { in: [1, 2] }` (nothing else). */
function fieldPins(field: string, value: unknown): Branch[] | undefined {
  if (!isRecord(value)) return isTaggableValue(value) ? [new Map([[field, value]])] : undefined
  const operators = Object.keys(value).filter((k) => value[k] !== undefined)
  if (operators.length !== 1) return undefined
  const [operator] = operators
  if (operator === 'equals')
    return isTaggableValue(value.equals) ? [new Map([[field, value.equals]])] : undefined
  if (operator === 'in' && Array.isArray(value.in) && value.in.length <= MAX_BRANCHES) {
    return value.in.every(isTaggableValue) ? value.in.map((v: unknown) => new Map([[field, v]])) : undefined
  }
  return undefined
}

/** `a_b: { a: 1, b: 2 }`, a compound unique or primary key given as its fields. */
function isCompoundKey(model: ModelInfo, name: string, value: unknown): boolean {
  return (
    isRecord(value) &&
    !model.columns.has(name) &&
    !model.relations.has(name) &&
    Object.keys(value).length > 0 &&
    Object.keys(value).every((field) => model.pinnable.has(field))
  )
}

/** AND of two disjunctions; branches that pin one field to two values match nothing. */
function product(left: Branch[], right: Branch[]): Branch[] | undefined {
  const out: Branch[] = []
  for (const a of left) {
    for (const b of right) {
      const merged = new Map(a)
      let empty = false
      for (const [field, value] of b) {
        if (merged.has(field) && !sameValue(merged.get(field), value)) empty = true
        merged.set(field, value)
      }
      if (!empty) out.push(merged)
      if (out.length > MAX_BRANCHES) return undefined
    }
  }
  return out
}

function sameValue(a: unknown, b: unknown): boolean {
  return a === b || (a !== null && b !== null && String(a) === String(b))
}
