/**
 * Closed → open after `failureThreshold` consecutive failures; open → half-open after
 * `resetAfterMs`, when exactly one probe is let through; the probe's outcome closes or re-opens.
 */
export interface CircuitBreakerOptions {
  failureThreshold?: number
  resetAfterMs?: number
}

export type CircuitState = 'closed' | 'open' | 'half-open'

export class CircuitBreaker {
  private readonly threshold: number
  private readonly resetAfterMs: number
  private failures = 0
  private openedAt = 0
  private probing = false
  private current: CircuitState = 'closed'

  constructor(options: CircuitBreakerOptions = {}) {
    this.threshold = options.failureThreshold ?? 5
    this.resetAfterMs = options.resetAfterMs ?? 1_000
  }

  get state(): CircuitState {
    return this.current
  }

  /** Whether an operation may go to the store now; claims the single half-open probe slot. */
  allow(): boolean {
    if (this.current === 'closed') return true
    if (this.current === 'open' && Date.now() - this.openedAt >= this.resetAfterMs) {
      this.current = 'half-open'
      this.probing = false
    }
    if (this.current === 'half-open' && !this.probing) {
      this.probing = true
      return true
    }
    return false
  }

  success(): void {
    this.failures = 0
    this.probing = false
    this.current = 'closed'
  }

  failure(): void {
    this.failures += 1
    this.probing = false
    if (this.current === 'half-open' || this.failures >= this.threshold) {
      this.current = 'open'
      this.openedAt = Date.now()
    }
  }
}
