import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { readHead, writeEntry } from '../src/entry.js'
import { matchHead } from '../src/entry-match.js'
import type { EntryAddress } from '../src/query-key.js'
import { sameList } from '../src/same-list.js'
import { isCurrent } from '../src/tags/versions.js'

/** What the hit read decided before the in-place match: parse the head, then compare. */
function parsedVerdict(
  raw: string,
  address: EntryAddress,
  tags: readonly string[],
  epoch: string,
  versions: readonly string[],
): boolean {
  try {
    const { head, body } = readHead(raw, address.storeKey, address.identity)
    return body !== -1 && sameList(head.tags, tags) && isCurrent(head, epoch, versions)
  } catch {
    return false
  }
}

const token = fc.stringMatching(/^[A-Za-z0-9@._-]{1,12}$/)
// Identities and tags may hold anything JSON escapes: quotes, backslashes, newlines, non-ASCII.
const text = fc.oneof(
  fc.string({ minLength: 1, maxLength: 8 }),
  fc.constantFrom('a"b', 'a\\b', 'x\ny', 'é', '","'),
)

describe('matchHead (the hit read compares the head in place)', () => {
  it('agrees with readHead + sameList + isCurrent on written entries (property)', () => {
    fc.assert(
      fc.property(
        text,
        fc.array(text, { maxLength: 3 }),
        token,
        fc.array(token, { maxLength: 3 }),
        text,
        fc.array(text, { maxLength: 3 }),
        token,
        fc.array(token, { maxLength: 3 }),
        fc.boolean(),
        (identity, tags, epoch, versions, askIdentity, askTags, askEpoch, askVersions, same) => {
          const stored = tags.slice(0, versions.length)
          const written = versions.slice(0, stored.length)
          const raw = writeEntry(
            { identity, freshUntil: 1_700_000_000_000, epoch, tags: stored, versions: written },
            { data: { a: 1 }, meta: undefined },
          )
          const address = { key: 'k', storeKey: 'ns:e:k', identity: same ? identity : askIdentity }
          const asked = same ? stored : askTags
          const askedVersions = same ? written : askVersions.slice(0, asked.length)
          const askedEpoch = same ? epoch : askEpoch
          if (askedVersions.length !== asked.length) return
          const matched = matchHead(raw, address, asked, askedEpoch, askedVersions)
          expect(matched !== undefined).toBe(parsedVerdict(raw, address, asked, askedEpoch, askedVersions))
          if (matched !== undefined) {
            expect(matched.head.freshUntil).toBe(1_700_000_000_000)
            expect(matched.body).toBe(readHead(raw, address.storeKey, address.identity).body)
          }
        },
      ),
      { numRuns: 2_000 },
    )
  })

  it('agrees with readHead when the asked tokens re-split the stored line (property)', () => {
    // The line is compared joined: asked tokens holding spaces, newlines or nothing, cut at other
    // places than the stored ones, must never pass for them.
    const piece = fc.oneof(token, fc.constantFrom('', ' ', '\n', 'a b', ' x', 'y '))
    fc.assert(
      fc.property(
        token,
        fc.array(token, { minLength: 1, maxLength: 4 }),
        fc.array(fc.nat(), { maxLength: 4 }),
        fc.array(piece, { maxLength: 4 }),
        fc.nat(),
        (epoch, versions, cuts, noise, which) => {
          const tags = versions.map((_, i) => `t${i}`)
          const raw = writeEntry(
            { identity: 'k', freshUntil: 9, epoch, tags, versions },
            { data: [1], meta: undefined },
          )
          const address = { key: 'k', storeKey: 'ns:e:k', identity: 'k' }
          // The stored text, cut into as many asked tokens at arbitrary places.
          const joined = [epoch, ...versions].join(' ')
          const at = [...new Set(cuts.map((c) => c % (joined.length + 1)))].sort((a, b) => a - b)
          const parts: string[] = []
          let from = 0
          for (const cut of at.slice(0, versions.length)) {
            parts.push(joined.slice(from, cut))
            from = cut
          }
          parts.push(joined.slice(from))
          while (parts.length < versions.length + 1)
            parts.push(noise[parts.length % Math.max(1, noise.length)] ?? '')
          if (noise.length > 0) {
            const i = which % parts.length
            parts[i] = `${parts[i] ?? ''}${noise[which % noise.length] ?? ''}`
          }
          const [askedEpoch, ...askedVersions] = parts.slice(0, versions.length + 1)
          const matched = matchHead(raw, address, tags, askedEpoch!, askedVersions)
          expect(matched !== undefined).toBe(parsedVerdict(raw, address, tags, askedEpoch!, askedVersions))
        },
      ),
      { numRuns: 3_000 },
    )
  })

  it('matches a current entry and refuses every other head', () => {
    const address = { key: 'k', storeKey: 'ns:e:k', identity: 'k' }
    const raw = writeEntry(
      { identity: 'k', freshUntil: 5, epoch: 'E@1', tags: ['t1', 't2'], versions: ['v1', 'v2'] },
      { data: [1], meta: undefined },
    )
    expect(matchHead(raw, address, ['t1', 't2'], 'E@1', ['v1', 'v2'])).toMatchObject({
      head: { freshUntil: 5, epoch: 'E@1', tags: ['t1', 't2'], versions: ['v1', 'v2'] },
    })
    // Another epoch, version, tag order, identity, a version prefix, or a head without payload.
    expect(matchHead(raw, address, ['t1', 't2'], 'E@2', ['v1', 'v2'])).toBeUndefined()
    expect(matchHead(raw, address, ['t1', 't2'], 'E@1', ['v1', 'v3'])).toBeUndefined()
    expect(matchHead(raw, address, ['t2', 't1'], 'E@1', ['v1', 'v2'])).toBeUndefined()
    expect(matchHead(raw, { ...address, identity: 'j' }, ['t1', 't2'], 'E@1', ['v1', 'v2'])).toBeUndefined()
    expect(matchHead(raw, address, ['t1', 't2'], 'E@1', ['v1', 'v'])).toBeUndefined()
    expect(matchHead(raw, address, ['t1', 't2'], 'E', ['@1', 'v1'])).toBeUndefined()
    expect(matchHead(raw, address, ['t1', 't2'], 'E@1 v1', ['v2', ''])).toBeUndefined()
    const headOnly = raw.slice(0, raw.indexOf('\n', raw.indexOf('\n') + 1))
    expect(matchHead(headOnly, address, ['t1', 't2'], 'E@1', ['v1', 'v2'])).toBeUndefined()
    expect(matchHead(raw.replace(' 5 ', '  '), address, ['t1', 't2'], 'E@1', ['v1', 'v2'])).toBeUndefined()
  })
})
