import { Decimal } from 'decimal.js'
import { describe, expect, it } from 'vitest'
import {
  bulkTag,
  bulkWriteTags,
  columnAnyTag,
  columnLeftTag,
  columnTag,
  memberTag,
  rowTag,
  rowWriteTags,
  tableTag,
  unnamedMemberTag,
} from '../src/exports/adapter.js'
import { InvalidTagError } from '../src/exports/index.js'
import { isFineTag, isFineTagOf, tableOfTag } from '../src/tags/vocabulary.js'

describe('shared tag vocabulary', () => {
  it('names tables case- and schema-insensitively, unquoted', () => {
    expect(tableTag('Users')).toBe('t:users')
    expect(tableTag('public.users')).toBe(tableTag('"users"'))
    expect(tableTag('`shop`.`Orders`')).toBe('t:orders')
    expect(bulkTag('users')).toBe('b:users')
  })

  it('gives the same row tag for the values each ORM returns for one row', () => {
    // Prisma returns BigInt ids as bigint; TypeORM returns bigint columns as strings.
    expect(rowTag('users', { id: 5n })).toBe(rowTag('users', { id: '5' }))
    expect(rowTag('users', { id: 5 })).toBe(rowTag('users', { id: 5n }))
    expect(rowTag('prices', { amount: new Decimal('1.50') })).toBe(rowTag('prices', { amount: '1.5' }))
    expect(rowTag('events', { at: new Date(0) })).toBe('r:events:1970-01-01T00:00:00.000Z')
    expect(rowTag('blobs', { id: Buffer.from([1, 255]) })).toBe('r:blobs:01ff')
  })

  it('orders composite keys by column and keeps values unambiguous', () => {
    expect(rowTag('memberships', { userId: 1, groupId: 2 })).toBe(
      rowTag('memberships', { groupId: 2, userId: 1 }),
    )
    expect(rowTag('t', { a: '1&b=2', b: '3' })).not.toBe(rowTag('t', { a: '1', b: '2&b=3' }))
  })

  it('keeps the stored tag text of single and composite keys (fleets mix versions)', () => {
    expect(rowTag('public."Users"', { id: 7 })).toBe('r:users:7')
    expect(rowTag('public."Users"', { id: 7 })).toBe('r:users:7') // again, from the table memo
    expect(rowTag('Memberships', { userId: 1, groupId: 22 })).toBe('r:memberships:groupid=2:22&userid=1:1')
    expect(() => rowTag('', { id: 1 })).toThrow(InvalidTagError)
    expect(() => rowTag('', { id: 1 })).toThrow(InvalidTagError)
    // Past the memo's bound, names are still normalized (the memo starts over).
    for (let i = 0; i < 3000; i++) expect(tableTag(`S.T${i}`)).toBe(`t:t${i}`)
  })

  it('builds write tag sets', () => {
    // A reported row write names none of the values the row kept: the unnamed-member tag too.
    expect(rowWriteTags('users', { id: 1 })).toEqual(['t:users', 'r:users:1', 'u:users'])
    expect(bulkWriteTags('users')).toEqual(['t:users', 'b:users'])
  })

  it('rejects unusable input with InvalidTagError', () => {
    expect(() => rowTag('users', {})).toThrow(InvalidTagError)
    expect(() => rowTag('users', { id: { nested: true } })).toThrow(InvalidTagError)
    expect(() => tableTag('')).toThrow(InvalidTagError)
  })

  it('column-left tags are per column, differ from column-any tags and belong to their table', () => {
    expect(columnLeftTag('public."Posts"', 'AuthorId')).toBe('l:posts:authorid')
    expect(columnLeftTag('posts', 'author_id')).not.toBe(columnAnyTag('posts', 'author_id'))
    expect(tableOfTag(columnLeftTag('posts', 'author_id'))).toBe('posts')
  })

  it('member tags normalize values like column-value tags and belong to their table', () => {
    expect(memberTag('public."Users"', 'Team_Id', 2)).toBe('m:users:team_id=2')
    expect(memberTag('users', 'team_id', 2n)).toBe(memberTag('users', 'team_id', '2'))
    expect(memberTag('users', 'active', true)).toBe('m:users:active=1')
    expect(memberTag('users', 'team_id', null)).toBe(memberTag('users', 'team_id', null))
    expect(memberTag('users', 'team_id', null)).not.toBe(memberTag('users', 'team_id', 'null'))
    expect(memberTag('users', 'team_id', 2)).not.toBe(columnTag('users', 'team_id', 2))
    expect(tableOfTag(memberTag('users', 'team_id', 2))).toBe('users')
    expect(() => memberTag('users', 'team_id', { nested: 1 })).toThrow(InvalidTagError)
    // Fine: a read may learn it after its load, so writes bump it after their coarse tags.
    expect(isFineTag(memberTag('users', 'team_id', 2))).toBe(true)
    expect(isFineTagOf(memberTag('users', 'team_id', 2), 'users')).toBe(true)
    expect(isFineTagOf(memberTag('users', 'team_id', 2), 'posts')).toBe(false)
  })

  it('the unnamed-member tag is per table and belongs to it', () => {
    expect(unnamedMemberTag('public."Users"')).toBe('u:users')
    expect(tableOfTag(unnamedMemberTag('users'))).toBe('users')
    expect(tableOfTag('u:')).toBeUndefined()
    expect(isFineTag(unnamedMemberTag('users'))).toBe(false)
  })
})
