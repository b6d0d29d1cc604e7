import crypto from 'node:crypto'
import { InvalidOptionError } from '../errors.js'

export interface HashRingOptions {
  /** Points each node gets on the ring; more points spread keys more evenly. Default 160. */
  pointsPerNode?: number
}

/**
 * Consistent hashing with virtual nodes (ketama style: every MD5 digest of "node-i" yields
 * four 32-bit points). A key belongs to the first point at or after its own hash, wrapping
 * around. Removing a node therefore moves only the keys that node owned; every other key keeps
 * its node, which is what lets a Memcached fleet lose one server without a cold start
 * everywhere.
 */
export class HashRing {
  readonly nodes: readonly string[]
  private readonly points: Uint32Array
  private readonly owners: string[]
  private readonly pointsPerNode: number

  constructor(nodes: readonly string[], options: HashRingOptions = {}) {
    const pointsPerNode = options.pointsPerNode ?? 160
    if (!Number.isInteger(pointsPerNode) || pointsPerNode < 4 || pointsPerNode % 4 !== 0) {
      throw new InvalidOptionError('pointsPerNode', 'must be a positive multiple of 4')
    }
    if (nodes.length === 0) throw new InvalidOptionError('servers', 'needs at least one server')
    if (new Set(nodes).size !== nodes.length) throw new InvalidOptionError('servers', 'lists a server twice')
    this.nodes = [...nodes]
    this.pointsPerNode = pointsPerNode

    const placed: { point: number; node: string }[] = []
    for (const node of nodes) {
      for (let i = 0; i < pointsPerNode / 4; i++) {
        const digest = md5(`${node}-${i}`)
        for (let part = 0; part < 4; part++) placed.push({ point: digest.readUInt32LE(part * 4), node })
      }
    }
    // Ties (two nodes on one point) are broken by node name so every process builds the same ring.
    placed.sort((a, b) => a.point - b.point || (a.node < b.node ? -1 : a.node > b.node ? 1 : 0))
    this.points = Uint32Array.from(placed, (p) => p.point)
    this.owners = placed.map((p) => p.node)
  }

  /** The node that owns `key`. */
  node(key: string): string {
    const hash = md5(key).readUInt32LE(0)
    const points = this.points
    let low = 0
    let high = points.length
    while (low < high) {
      const mid = (low + high) >>> 1
      if (points[mid]! < hash) low = mid + 1
      else high = mid
    }
    return this.owners[low === points.length ? 0 : low]!
  }

  /** The same ring without `node`: only that node's keys move, to their next point's owner. */
  without(node: string): HashRing {
    return new HashRing(
      this.nodes.filter((n) => n !== node),
      { pointsPerNode: this.pointsPerNode },
    )
  }
}

function md5(text: string): Buffer {
  return crypto.createHash('md5').update(text).digest()
}
