import type { TransactionTags } from './transaction-tags.js'

/** One committed transaction whose invalidation has not reached the store yet. */
export interface PendingCommit {
  xid: number
  /** Its commit's end position; undefined when the server sent none. */
  lsn: bigint | undefined
  /** ms since the Unix epoch. */
  commitTime: number
  txn: TransactionTags
  tags: readonly string[]
}

/** Bounds of one store write: a backlog is applied in pieces of at most this many... */
const MAX_COMMITS = 500
/** ...or, once its tags reach this many, sooner (a single larger transaction still goes whole). */
const MAX_TAGS = 4000

/**
 * Committed transactions received while earlier ones were being applied, applied together: one
 * visibility check and one store write for all of them instead of one each. Those two round
 * trips, made per transaction, cap a consumer near the rate of a busy table, so a backlog (a
 * burst, a slow moment, a restart) would never drain. Together is as sound as one by one: the
 * store write bumps the union of the tags once every transaction in it is visible, and nothing
 * of the batch is acknowledged before that write is confirmed (docs/design.md, change stream).
 */
export class CommitBatch {
  readonly commits: PendingCommit[] = []
  /** Bump the namespace epoch too (some transaction changed a relation it cannot name). */
  everything = false
  /** The position acknowledged once the batch is applied: its last commit, or a later keepalive. */
  end = 0n
  private readonly tagSet = new Set<string>()

  get empty(): boolean {
    return this.commits.length === 0
  }

  add(commit: PendingCommit): void {
    this.commits.push(commit)
    for (const tag of commit.tags) this.tagSet.add(tag)
    if (commit.txn.everything) this.everything = true
    if (commit.lsn !== undefined) this.reach(commit.lsn)
  }

  /** A keepalive after the batch's commits, with no transaction open: nothing before it is left. */
  reach(lsn: bigint): void {
    if (lsn > this.end) this.end = lsn
  }

  full(): boolean {
    return this.commits.length >= MAX_COMMITS || this.tagSet.size >= MAX_TAGS
  }

  tags(): string[] {
    return [...this.tagSet]
  }

  /** Transactions whose visibility the store write waits for: those that bump something. */
  xids(): number[] {
    return this.commits.filter((c) => c.tags.length > 0 || c.txn.everything).map((c) => c.xid)
  }
}
