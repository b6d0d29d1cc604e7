import { describe, expect, it } from 'vitest'
import { type RelationInfo, TransactionTags } from '../src/transaction-tags.js'

const orders: RelationInfo = {
  oid: 1,
  schema: 'public',
  name: 'orders',
  // int4, bool, text
  columns: new Map([
    ['id', 23],
    ['status', 23],
    ['paid', 16],
    ['note', 25],
  ]),
  primaryKey: ['id'],
  identity: 'default',
}

/** The member tags a stream update bumps (docs/design.md, "Lists without row tags"). */
describe('stream updates name the values rows kept', () => {
  it('bumps the member tag of every pinnable column’s new value, none of other types', () => {
    const tags = new TransactionTags(100)
    tags.update(orders, undefined, undefined, { id: '7', status: '5', paid: 't', note: 'x' })
    const members = tags
      .tags()
      .filter((tag) => tag.startsWith('m:') || tag.startsWith('u:'))
      .sort()
    expect(members).toEqual(['m:orders:id=7', 'm:orders:paid=1', 'm:orders:status=5'])
  })

  it('names a null value as null', () => {
    const tags = new TransactionTags(100)
    tags.update(orders, undefined, undefined, { id: '7', status: null, paid: 'f', note: null })
    expect(tags.tags()).toContain('m:orders:status=\u0000null')
    expect(tags.tags()).toContain('m:orders:paid=0')
  })

  it('inserts and deletes bump no member tag (a row entering or leaving is named otherwise)', () => {
    const tags = new TransactionTags(100)
    tags.insert(orders, { id: '8', status: '5', paid: 'f', note: null })
    tags.delete(orders, { id: '9' }, undefined)
    expect(tags.tags().filter((tag) => tag.startsWith('m:') || tag.startsWith('u:'))).toEqual([])
  })

  it('past maxRows the table collapses to table and bulk tags', () => {
    const tags = new TransactionTags(1)
    tags.update(orders, undefined, undefined, { id: '1', status: '5', paid: 't', note: null })
    tags.update(orders, undefined, undefined, { id: '2', status: '5', paid: 't', note: null })
    expect(tags.tags().sort()).toEqual(['b:orders', 't:orders'])
  })
})
