/** Number of hash slots in a Redis Cluster. */
export const SLOT_COUNT = 16384

const TABLE = (() => {
  const table = new Uint16Array(256)
  for (let byte = 0; byte < 256; byte++) {
    let crc = byte << 8
    for (let bit = 0; bit < 8; bit++)
      crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff
    table[byte] = crc
  }
  return table
})()

/**
 * The cluster hash slot of `key`: CRC16-XMODEM of its UTF-8 bytes modulo 16384, or of the part
 * between the first "{" and the next "}" when that part is non-empty (a hash tag). Computed
 * here rather than imported from ioredis's own dependency, which a strict installer (pnpm)
 * would not let this package resolve.
 */
export function keySlot(key: string): number {
  let bytes = Buffer.from(key, 'utf8')
  const open = bytes.indexOf(0x7b)
  if (open !== -1) {
    const close = bytes.indexOf(0x7d, open + 1)
    if (close > open + 1) bytes = bytes.subarray(open + 1, close)
  }
  let crc = 0
  for (const byte of bytes) crc = ((crc << 8) & 0xffff) ^ TABLE[((crc >> 8) ^ byte) & 0xff]!
  return crc % SLOT_COUNT
}
