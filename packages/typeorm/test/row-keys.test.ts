import { describe, expect, it } from 'vitest'
import type { KeyColumn } from '../src/schema/entity-schema.js'
import { rowsOfBranches } from '../src/schema/row-keys.js'
import type { Branch, Operand } from '../src/sql/predicate.js'

const id: KeyColumn = { name: 'id', kind: 'integer', generated: true }
const tenant: KeyColumn = { name: 'tenant', kind: 'integer', generated: false }
const param = (index: number): Operand => ({ kind: 'param', index })
const literal = (text: string): Operand => ({ kind: 'literal', text, quoted: false })
const branch = (pins: Record<string, Operand[]>): Branch => new Map(Object.entries(pins))

/** Which rows a WHERE clause can match, as write effects and write-through read them. */
describe('rowsOfBranches', () => {
  it('one branch pinning the key to one value: that row (the common single-row write)', () => {
    expect(rowsOfBranches([branch({ id: [param(0)] })], [id], [7])).toEqual([{ id: '7' }])
    expect(rowsOfBranches([branch({ ID: [literal('12')] })], [id], [])).toEqual([{ id: '12' }])
    expect(rowsOfBranches([branch({ id: [param(0)] })], [id], ['0042'])).toBeUndefined()
    expect(rowsOfBranches([branch({ id: [param(3)] })], [id], [1])).toBeUndefined()
    expect(rowsOfBranches([branch({ name: [param(0)] })], [id], ['x'])).toBeUndefined()
  })

  it('IN lists, several branches and composite keys: every row once', () => {
    expect(rowsOfBranches([branch({ id: [param(0), param(1), param(0)] })], [id], [1, 2])).toEqual([
      { id: '1' },
      { id: '2' },
    ])
    expect(
      rowsOfBranches(
        [branch({ id: [param(0)] }), branch({ id: [param(1)] }), branch({ id: [param(0)] })],
        [id],
        [5, 6],
      ),
    ).toEqual([{ id: '5' }, { id: '6' }])
    expect(
      rowsOfBranches([branch({ tenant: [literal('1')], id: [param(0), param(1)] })], [tenant, id], [3, 4]),
    ).toEqual([
      { tenant: '1', id: '3' },
      { tenant: '1', id: '4' },
    ])
    expect(rowsOfBranches([branch({ id: [param(0)] })], [tenant, id], [3])).toBeUndefined()
  })
})
