import { describe, expect, it } from 'vitest'
import { StalenessChecker } from '../src/scenarios/staleness-checker.js'

describe('staleness definition', () => {
  it('counts a read that began after a finished write and returned an older version', () => {
    const checker = new StalenessChecker()
    checker.finishedWrite('user:1', 3)
    const required = checker.required(['user:1'])
    checker.check(['user:1'], required, [2])
    expect(checker.staleReads).toBe(1)
    expect(checker.worstLag).toBe(1)
  })

  it('does not count a read that began before the write finished', () => {
    const checker = new StalenessChecker()
    checker.finishedWrite('user:1', 1)
    const required = checker.required(['user:1'])
    checker.finishedWrite('user:1', 2) // finishes while the read is in flight
    checker.check(['user:1'], required, [1])
    expect(checker.staleReads).toBe(0)
    expect(checker.reads).toBe(1)
  })

  it('accepts newer data than required (a write still in flight may be visible)', () => {
    const checker = new StalenessChecker()
    checker.check(['post:1'], checker.required(['post:1']), [5])
    expect(checker.staleReads).toBe(0)
  })

  it('counts a multi-row read once, with its largest lag', () => {
    const checker = new StalenessChecker()
    checker.finishedWrite('user:1', 4)
    checker.finishedWrite('post:9', 7)
    const rows = ['user:1', 'post:9', 'post:10']
    checker.check(rows, checker.required(rows), [3, 4, 0])
    expect(checker.staleReads).toBe(1)
    expect(checker.worstLag).toBe(3)
  })

  it('keeps the highest finished version when writes finish out of order', () => {
    const checker = new StalenessChecker()
    checker.finishedWrite('item:1', 5)
    checker.finishedWrite('item:1', 4)
    expect(checker.required(['item:1'])).toEqual([5])
    expect(checker.writes).toBe(2)
  })
})
