import { afterAll, beforeAll, beforeEach } from 'vitest'
import { type Harness, type HarnessOptions, openHarness } from './clients.js'
import { type Dialect, openDatabase, type TestDatabase } from './databases.js'
import { type Fixture, seed } from './fixtures.js'

export interface SeededState {
  database: TestDatabase
  h: Harness
  f: Fixture
}

/**
 * The lifecycle every suite shares: one database and harness per dialect, and before each test
 * a reset database, an empty cache and fresh seed rows. `onState` receives the state whenever it
 * changes, so a suite can keep plain `database` / `h` / `f` variables.
 */
export function seededSuite(
  dialect: Dialect,
  options: HarnessOptions,
  onState: (state: SeededState) => void,
): void {
  const state = {} as SeededState
  beforeAll(async () => {
    state.database = await openDatabase(dialect)
    state.h = await openHarness(state.database, options)
    onState(state)
  })
  afterAll(async () => {
    await state.h?.close()
    await state.database?.close()
  })
  beforeEach(async () => {
    await state.database.reset()
    await state.h.cache.clear()
    state.f = await seed(state.h.db)
    onState(state)
  })
}
