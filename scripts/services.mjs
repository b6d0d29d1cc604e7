#!/usr/bin/env node
// Starts the local services the tests need, idempotently: each one is checked by speaking its
// protocol and started only if it does not answer. Used by `npm run services`, the root
// `pretest` and CI (.ci/run).
//
//   node scripts/services.mjs [up|down|status] [--only name,name]
//
// up (default)  start whatever is down: postgres, redis, mariadb, memcached (x2), redis-cluster,
//               and install Debian's chromium for the demo's browser test
// down          stop only what this script started (memcached x2, the Redis Cluster nodes)
// status        report without starting anything
import { chromium } from './services/chromium.mjs'
import { mariadb } from './services/mariadb.mjs'
import { memcached } from './services/memcached.mjs'
import { postgres } from './services/postgres.mjs'
import { redis } from './services/redis.mjs'
import { redisCluster } from './services/redis-cluster.mjs'

const ALL = [postgres, redis, mariadb, memcached, redisCluster, chromium]
// chromium too: `npm test` runs the demo's dashboard test in a headless browser.
const DEFAULT = [postgres, redis, mariadb, memcached, redisCluster, chromium]

function usage(message) {
  if (message) console.error(`services: ${message}`)
  console.error('usage: node scripts/services.mjs [up|down|status] [--only name,name]')
  console.error(`services: ${ALL.map((s) => s.name).join(', ')}`)
  process.exit(2)
}

function parse(argv) {
  let command = 'up'
  let only
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]
    if (arg === '--only') only = argv[++i]
    else if (arg.startsWith('--only=')) only = arg.slice('--only='.length)
    else if (arg === '-h' || arg === '--help') usage()
    else if (['up', 'down', 'status'].includes(arg)) command = arg
    else usage(`unknown argument "${arg}"`)
  }
  if (only === undefined) return { command, services: DEFAULT }
  const names = only
    .split(',')
    .map((n) => n.trim())
    .filter(Boolean)
  const services = names.map((name) => ALL.find((s) => s.name === name) ?? usage(`unknown service "${name}"`))
  if (services.length === 0) usage('--only needs at least one name')
  return { command, services }
}

async function main() {
  const { command, services } = parse(process.argv.slice(2))
  const width = Math.max(...services.map((s) => s.name.length))
  const failures = []
  for (const service of services) {
    const label = `${service.name.padEnd(width)}  ${service.address}`
    try {
      let line
      if (command === 'up') line = await service.up()
      else if (command === 'status') {
        line = (await service.check()) ? 'up' : 'DOWN'
        if (line === 'DOWN') failures.push(service.name)
      } else line = service.down ? await service.down() : 'left running (not started by this script)'
      console.log(`services: ${label}  ${line}`)
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error)
      console.log(`services: ${label}  FAILED: ${message}`)
      failures.push(service.name)
    }
  }
  if (failures.length > 0) {
    const what = command === 'status' ? 'down' : `${command} failed for`
    console.error(`services: ${what} ${failures.join(', ')} (see the lines above)`)
    process.exit(1)
  }
}

await main()
