/**
 * The staleness definition, kept in one place. A read is stale if it returns a row older than
 * the last write to that row that had FINISHED (the write's promise resolved, including the
 * library's invalidation) before the read BEGAN. Versions increase by one per committed write
 * (UPDATE … SET version = version + 1 RETURNING version), so "older" is "smaller version".
 */
export class StalenessChecker {
  /** Highest version whose write has finished, per row ("user:3", "post:12", "item:7"). */
  private readonly finished = new Map<string, number>()
  reads = 0
  staleReads = 0
  /** Largest number of finished versions a stale read was behind. */
  worstLag = 0
  writes = 0

  /** Call when a read begins: the versions it must not fall behind. */
  required(rows: readonly string[]): number[] {
    return rows.map((row) => this.finished.get(row) ?? 0)
  }

  /** Call when the read returned; `observed[i]` is the version it returned for `rows[i]`. */
  check(rows: readonly string[], required: readonly number[], observed: readonly number[]): void {
    this.reads++
    let lag = 0
    for (let i = 0; i < rows.length; i++) lag = Math.max(lag, required[i]! - observed[i]!)
    if (lag > 0) {
      this.staleReads++
      this.worstLag = Math.max(this.worstLag, lag)
    }
  }

  /** Call when a write's promise resolved with the version it committed. */
  finishedWrite(row: string, version: number): void {
    this.writes++
    if (version > (this.finished.get(row) ?? 0)) this.finished.set(row, version)
  }
}
