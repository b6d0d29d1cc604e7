import type { OrmCacheError } from '../errors.js'
import type { CircuitBreakerOptions, CircuitState } from './circuit-breaker.js'

/** One breaker state change, with what happened since the previous one. */
export interface CircuitChange {
  /** The state the circuit is in now. */
  state: CircuitState
  /** The state it left. */
  previous: CircuitState
  /** Store faults since the previous change (the ones that opened it, failed probes, late replies). */
  failures: number
  /** Store calls skipped without trying while the circuit was not closed. */
  skipped: number
  /** The last fault seen (for 'open': the one that opened the circuit or failed the probe). */
  cause?: OrmCacheError
}

/**
 * The cache's breaker around its store. Closed → open after `failureThreshold` consecutive
 * failures. While open, every call fails at once; after `resetAfterMs` a probe runs in the
 * background (half-open) — never inside a user's query — and its outcome closes the circuit or
 * re-opens it for another `resetAfterMs`. Only the state changes are reported, with counts.
 */
export class StoreBreaker {
  private current: CircuitState = 'closed'
  private consecutive = 0
  private streak = 0
  private lastFailureAt = Number.NEGATIVE_INFINITY
  private failures = 0
  private skipped = 0
  private lastCause: OrmCacheError | undefined
  private timer: NodeJS.Timeout | undefined
  private stopped = false
  private readonly threshold: number
  private readonly resetAfterMs: number

  constructor(
    options: CircuitBreakerOptions,
    private readonly probe: () => Promise<unknown>,
    private readonly onChange: (change: CircuitChange) => void,
  ) {
    this.threshold = options.failureThreshold ?? 5
    this.resetAfterMs = options.resetAfterMs ?? 1_000
  }

  get state(): CircuitState {
    return this.current
  }

  /** The fault that opened the circuit (or failed its last probe). */
  get cause(): OrmCacheError | undefined {
    return this.lastCause
  }

  /**
   * Numbers each run of faults, so each run is reported once (context.ts). A run ends when the
   * circuit changes state or after `resetAfterMs` without a fault — not at the first success,
   * because with one of several servers down, faults and successes interleave call by call.
   */
  get faultStreak(): number {
    return this.streak
  }

  /** Whether a call may go to the store now; counts the ones it turns away. */
  allow(): boolean {
    if (this.current === 'closed') return true
    this.skipped += 1
    return false
  }

  success(): void {
    if (this.current === 'closed') this.consecutive = 0
  }

  failure(cause: OrmCacheError): void {
    this.failures += 1
    this.lastCause = cause
    if (this.current !== 'closed') return
    const now = performance.now()
    if (now - this.lastFailureAt > this.resetAfterMs) this.streak += 1
    this.lastFailureAt = now
    this.consecutive += 1
    if (this.consecutive >= this.threshold) this.open()
  }

  close(): void {
    this.stopped = true
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.timer = undefined
  }

  private open(): void {
    this.change('open')
    if (this.stopped) return
    // The probe is no user operation's: it runs without a budget (guard() gets none from here).
    this.timer = setTimeout(() => void this.runProbe(), this.resetAfterMs)
    this.timer.unref?.()
  }

  private async runProbe(): Promise<void> {
    this.timer = undefined
    if (this.stopped) return
    this.change('half-open')
    try {
      await this.probe()
    } catch (error) {
      this.failures += 1
      this.lastCause = error as OrmCacheError
      this.open()
      return
    }
    this.consecutive = 0
    this.change('closed')
  }

  private change(state: CircuitState): void {
    const change: CircuitChange = {
      state,
      previous: this.current,
      failures: this.failures,
      skipped: this.skipped,
    }
    if (this.lastCause !== undefined) change.cause = this.lastCause
    this.current = state
    if (state === 'closed') this.lastFailureAt = Number.NEGATIVE_INFINITY
    this.failures = 0
    this.skipped = 0
    this.onChange(change)
  }
}
