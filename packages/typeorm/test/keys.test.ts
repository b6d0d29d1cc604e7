import { describe, expect, it } from 'vitest'
import { queryKey } from '../src/keys.js'

/** Query keys carry digests of the SQL text (computed once per text), never the text itself. */
describe('query keys', () => {
  const sql = `SELECT "u"."id" AS "u_id" FROM "users" "u" WHERE "u"."id" = $1 ${'/* long */ '.repeat(200)}`

  it('are short whatever the statement length, and stable for one text', () => {
    const key = queryKey('postgres/db/public', 'users', sql, [7])
    expect(key.length).toBeLessThan(160)
    expect(key).not.toContain('SELECT')
    expect(queryKey('postgres/db/public', 'users', `${sql}`, [7])).toBe(key)
  })

  it('differ by SQL text, scope, label and parameters', () => {
    const base = queryKey('postgres/db/public', 'users', sql, [7])
    expect(queryKey('postgres/db/public', 'users', `${sql} `, [7])).not.toBe(base)
    expect(queryKey('postgres/db/other', 'users', sql, [7])).not.toBe(base)
    expect(queryKey('postgres/db/public', 'posts', sql, [7])).not.toBe(base)
    expect(queryKey('postgres/db/public', 'users', sql, [8])).not.toBe(base)
    expect(queryKey('postgres/db/public', 'users', sql, ['7'])).not.toBe(base)
  })

  it('keep texts apart that differ only in lone surrogates (UTF-8 would merge them)', () => {
    const a = queryKey('s', 't', "SELECT 1 FROM t WHERE name = 'x\uD800'", [])
    const b = queryKey('s', 't', "SELECT 1 FROM t WHERE name = 'x\uD801'", [])
    expect(a).not.toBe(b)
  })

  it('do not let one parameter list pass for another across the digest boundary', () => {
    expect(queryKey('s', 't', 'SELECT 1', ['a', 'b'])).not.toBe(queryKey('s', 't', 'SELECT 1', ['a,b']))
  })
})
