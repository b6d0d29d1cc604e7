/** A pending deadline; `index` is its place in the heap, -1 once it fired or was cancelled. */
export interface Deadline {
  readonly at: number
  index: number
  readonly fire: () => void
}

/**
 * The deadlines of every pending store call on ONE shared timer, instead of a setTimeout and a
 * clearTimeout per call: a binary heap ordered by due time, with the timer armed for the
 * earliest. A call that settles in time leaves the heap at once (O(log n) in the calls in
 * flight), so the heap never holds more than what is in flight. Each deadline still fires at
 * its own time: the timer is re-armed whenever an earlier deadline arrives, and on firing it
 * expires everything due and re-arms for the next. The timer is unref'd, as the per-call ones
 * were: pending store calls alone do not keep a process alive.
 */
export class Deadlines {
  private readonly heap: Deadline[] = []
  private timer: NodeJS.Timeout | undefined
  /** When the armed timer fires (performance.now() time); Infinity when none is armed. */
  private armedFor = Number.POSITIVE_INFINITY

  /** Calls `fire` in `ms` unless `cancel` is called first. */
  add(ms: number, fire: () => void): Deadline {
    const deadline: Deadline = { at: performance.now() + ms, index: this.heap.length, fire }
    this.heap.push(deadline)
    this.up(deadline.index)
    if (deadline.at < this.armedFor) this.arm(deadline.at)
    return deadline
  }

  cancel(deadline: Deadline): void {
    const i = deadline.index
    if (i < 0) return
    deadline.index = -1
    const last = this.heap.pop()!
    if (last === deadline) return
    this.heap[i] = last
    last.index = i
    this.down(i)
    this.up(last.index)
    // The armed timer may now be early: it re-arms for the next deadline when it fires.
  }

  /** Deadlines in the heap (tests). */
  get size(): number {
    return this.heap.length
  }

  private arm(at: number): void {
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.armedFor = at
    this.timer = setTimeout(() => this.expire(), Math.max(1, Math.ceil(at - performance.now())))
    this.timer.unref?.()
  }

  private expire(): void {
    this.timer = undefined
    this.armedFor = Number.POSITIVE_INFINITY
    // Timers have millisecond resolution and may run a fraction of one early by this clock.
    const now = performance.now() + 1
    const due: Deadline[] = []
    while (this.heap.length > 0 && this.heap[0]!.at <= now) {
      const first = this.heap[0]!
      this.cancel(first)
      due.push(first)
    }
    if (this.heap.length > 0) this.arm(this.heap[0]!.at)
    for (const deadline of due) deadline.fire()
  }

  private up(i: number): void {
    const heap = this.heap
    const item = heap[i]!
    while (i > 0) {
      const parent = (i - 1) >> 1
      const above = heap[parent]!
      if (above.at <= item.at) break
      heap[i] = above
      above.index = i
      i = parent
    }
    heap[i] = item
    item.index = i
  }

  private down(i: number): void {
    const heap = this.heap
    const n = heap.length
    const item = heap[i]!
    for (;;) {
      let child = 2 * i + 1
      if (child >= n) break
      if (child + 1 < n && heap[child + 1]!.at < heap[child]!.at) child += 1
      const below = heap[child]!
      if (below.at >= item.at) break
      heap[i] = below
      below.index = i
      i = child
    }
    heap[i] = item
    item.index = i
  }
}

/** The one set of deadlines of the process: every store call's timeout is on it. */
export const storeDeadlines = new Deadlines()
