const EPOCH = 2n ** 32n
const HALF = 2n ** 31n

/**
 * Whether 32-bit transaction id `xid` (as pgoutput sends it) is visible in a snapshot in
 * pg_current_snapshot()'s text form `xmin:xmax:xip,...` (64-bit ids). A transaction is visible
 * once it is below xmin, or below xmax and not listed as running; one at or above xmax (the
 * newest, still leaving the proc array) is not. The id's epoch is the one that puts it within
 * 2^31 of xmax: the transaction was just decoded, so it is recent.
 */
export function visibleIn(snapshot: string, xid: number): boolean {
  const [xminText, xmaxText, xipText = ''] = snapshot.split(':')
  const xmin = BigInt(xminText!)
  const xmax = BigInt(xmaxText!)
  let full = (xmax / EPOCH) * EPOCH + BigInt(xid)
  if (full - xmax > HALF) full -= EPOCH
  else if (xmax - full > HALF) full += EPOCH
  if (full < xmin) return true
  if (full >= xmax) return false
  return !xipText.split(',').some((running) => running !== '' && BigInt(running) === full)
}
