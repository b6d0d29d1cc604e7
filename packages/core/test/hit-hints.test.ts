import { describe, expect, it } from 'vitest'
import { HitHints } from '../src/read-path/hit-hints.js'

const TAGS = ['t:user', 'r:user:1']

describe('HitHints', () => {
  it('drops a hint when its plain read missed, and takes it again on the next hit', () => {
    const hints = new HitHints()
    hints.hit('k', hints.now())
    expect(hints.expects('k', TAGS)).toBe(true)
    hints.missed('k')
    expect(hints.expects('k', TAGS)).toBe(false)
    expect(hints.voided('k', TAGS)).toBe(false)
    hints.missed('never-hit')
    expect(hints.expects('never-hit', TAGS)).toBe(false)
    hints.hit('k', hints.now())
    expect(hints.expects('k', TAGS)).toBe(true)
  })

  it('keeps at most 10,000 keys, dropping the oldest first, missed ones included', () => {
    const hints = new HitHints()
    for (let i = 0; i < 10_000; i++) hints.hit(`k${i}`, hints.now())
    hints.missed('k1')
    hints.hit('k1', hints.now()) // set in place: still the second oldest
    for (let i = 0; i < 3; i++) hints.hit(`new${i}`, hints.now())
    expect([0, 1, 2, 3].map((i) => hints.expects(`k${i}`, TAGS))).toEqual([false, false, false, true])
    expect(hints.expects('new2', TAGS)).toBe(true)
    expect(hints.expects('k9999', TAGS)).toBe(true)
  })
})
