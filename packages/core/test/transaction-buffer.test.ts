import { describe, expect, it } from 'vitest'
import { TransactionBuffer } from '../src/exports/adapter.js'

describe('TransactionBuffer', () => {
  it('collects tags and drains them once at commit', () => {
    const buffer = new TransactionBuffer()
    buffer.add(['t:users', 'r:users:1'])
    buffer.add(['t:users'])
    expect(buffer.drain()).toEqual({ tags: ['t:users', 'r:users:1'], everything: false })
    expect(buffer.isEmpty).toBe(true)
    expect(buffer.drain()).toEqual({ tags: [], everything: false })
  })

  it('merges a released savepoint into its parent', () => {
    const buffer = new TransactionBuffer()
    buffer.add(['a'])
    buffer.savepoint()
    buffer.add(['b'])
    buffer.release()
    expect(buffer.depth).toBe(0)
    expect(buffer.drain().tags.sort()).toEqual(['a', 'b'])
  })

  it('drops writes since a savepoint on rollback-to, keeping earlier ones and the savepoint', () => {
    const buffer = new TransactionBuffer()
    buffer.add(['a'])
    buffer.savepoint()
    buffer.add(['b'])
    buffer.addEverything()
    buffer.rollbackToSavepoint()
    expect(buffer.depth).toBe(1)
    buffer.add(['c'])
    buffer.release()
    expect(buffer.drain()).toEqual({ tags: ['a', 'c'], everything: false })
  })

  it('handles nested savepoints and discards a whole nested level', () => {
    const buffer = new TransactionBuffer()
    buffer.savepoint()
    buffer.add(['outer'])
    buffer.savepoint()
    buffer.add(['inner'])
    buffer.discardSavepoint()
    buffer.release()
    expect(buffer.drain().tags).toEqual(['outer'])
  })

  it('carries "everything" through releases and forgets all on reset', () => {
    const buffer = new TransactionBuffer()
    buffer.savepoint()
    buffer.addEverything()
    buffer.release()
    expect(buffer.drain().everything).toBe(true)
    buffer.add(['x'])
    buffer.savepoint()
    buffer.reset()
    expect(buffer.depth).toBe(0)
    expect(buffer.isEmpty).toBe(true)
  })

  it('ignores release and rollback-to without an open savepoint', () => {
    const buffer = new TransactionBuffer()
    buffer.add(['a'])
    buffer.release()
    buffer.rollbackToSavepoint()
    buffer.discardSavepoint()
    expect(buffer.drain().tags).toEqual(['a'])
  })
})
