import { describe, expect, it } from 'vitest'
import { visibleIn } from '../src/snapshot.js'

describe('visibleIn', () => {
  it('judges a 32-bit xid against a 64-bit snapshot like PostgreSQL does', () => {
    expect(visibleIn('727:727:', 727)).toBe(false) // the newest transaction, still committing
    expect(visibleIn('727:728:', 727)).toBe(true)
    expect(visibleIn('720:730:723,727', 727)).toBe(false)
    expect(visibleIn('720:730:723,727', 725)).toBe(true)
    expect(visibleIn('720:730:723', 700)).toBe(true)
    expect(visibleIn('720:730:', 731)).toBe(false)
    // Epoch 1 (ids past 2^32): the xid wraps, the snapshot's ids do not.
    const epoch = 2 ** 32
    expect(visibleIn(`${epoch + 5}:${epoch + 10}:${epoch + 7}`, 7)).toBe(false)
    expect(visibleIn(`${epoch + 5}:${epoch + 10}:${epoch + 7}`, 8)).toBe(true)
    // Just before the wrap, the snapshot already past it.
    expect(visibleIn(`${epoch - 3}:${epoch + 2}:${epoch - 2}`, 2 ** 32 - 2)).toBe(false)
    expect(visibleIn(`${epoch - 3}:${epoch + 2}:${epoch - 2}`, 2 ** 32 - 1)).toBe(true)
    expect(visibleIn(`${epoch - 3}:${epoch + 2}:`, 2)).toBe(false)
  })
})
