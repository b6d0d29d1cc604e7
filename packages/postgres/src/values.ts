/**
 * Column values arrive from pgoutput as their text output. The adapters build tags from the
 * values the ORMs return, so a value is turned into a tag only for types whose text output
 * normalizes exactly like the ORMs' values (core's vocabulary: integers and strings as digits or
 * text, booleans as 1/0). Every other type is "unnameable": a row tag falls back to the table's
 * bulk tag and a column-value tag to the column-any tag, as the adapters do for values they
 * cannot name. That can only over-invalidate.
 */
const INTEGER = new Set([20, 21, 23, 26]) // int8, int2, int4, oid
const TEXT = new Set([25, 1043, 1042, 19, 2950]) // text, varchar, bpchar, name, uuid
const BOOL = 16

export type Nameable = string | boolean

/** Column types the ORMs pin lists on (integers and booleans; see core's "Precision"). */
export const isPinnableType = (typeOid: number): boolean => INTEGER.has(typeOid) || typeOid === BOOL

/** The value a tag can be built from, or undefined when the type cannot be named exactly. */
export function nameable(typeOid: number, text: unknown): Nameable | null | undefined {
  if (text === null) return null
  if (typeof text !== 'string') return undefined
  if (INTEGER.has(typeOid) || TEXT.has(typeOid)) return text
  if (typeOid === BOOL) return text === 't'
  return undefined
}
