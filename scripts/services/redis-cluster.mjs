import { rmSync } from 'node:fs'
import { redisPing, waitFor } from './probe.mjs'
import { aptInstall, flags, hasBinary, livePid, run } from './run.mjs'
import { stateDir } from './state.mjs'

/** Three masters, no replicas: enough for keys of one request to land on different nodes. */
const PORTS = [7000, 7001, 7002]
const HOST = '127.0.0.1'
const SLOTS = 16384

const pidFile = (port) => `${stateDir('redis-cluster')}/redis-${port}.pid`
const cli = (port, ...args) =>
  run('redis-cli', ['-h', HOST, '-p', String(port), ...args], { allowFailure: true })

/** CLUSTER INFO of one node as a map, or undefined if the node does not answer it. */
function clusterInfo(port) {
  const { ok, output } = cli(port, 'cluster', 'info')
  if (!ok || !output.includes('cluster_state:')) return undefined
  return Object.fromEntries(
    output
      .split(/\r?\n/)
      .filter((line) => line.includes(':'))
      .map((line) => line.split(':').map((part) => part.trim())),
  )
}

/** Every node agrees: state ok, all slots served, exactly our three masters known. */
function healthy() {
  return PORTS.every((port) => {
    const info = clusterInfo(port)
    return (
      info !== undefined &&
      info.cluster_state === 'ok' &&
      Number(info.cluster_slots_ok) === SLOTS &&
      Number(info.cluster_known_nodes) === PORTS.length &&
      Number(info.cluster_size) === PORTS.length
    )
  })
}

/** A node that has joined something or owns slots; a fresh node knows only itself. */
function configured(port) {
  const info = clusterInfo(port)
  return (
    info !== undefined && (Number(info.cluster_known_nodes) > 1 || Number(info.cluster_slots_assigned) > 0)
  )
}

function startNode(port) {
  const dir = stateDir('redis-cluster')
  run(
    'redis-server',
    flags({
      port,
      bind: HOST,
      'cluster-enabled': 'yes',
      'cluster-config-file': `${dir}/nodes-${port}.conf`,
      'cluster-node-timeout': 5000,
      daemonize: 'yes',
      save: '',
      appendonly: 'no',
      dir,
      pidfile: pidFile(port),
      logfile: `${dir}/redis-${port}.log`,
    }),
  )
}

export const redisCluster = {
  name: 'redis-cluster',
  address: PORTS.map((p) => `${HOST}:${p}`).join(', '),
  check: async () => (await Promise.all(PORTS.map((p) => redisPing(p)))).every(Boolean) && healthy(),
  async up() {
    const notes = []
    if (!hasBinary('redis-server') || !hasBinary('redis-cli')) notes.push(aptInstall('redis-server'))
    const started = []
    for (const port of PORTS) {
      if (await redisPing(port)) continue
      startNode(port)
      started.push(port)
    }
    for (const port of PORTS) {
      if (!(await waitFor(() => redisPing(port), 15_000)))
        throw new Error(`node :${port} did not answer PING`)
    }
    if (started.length > 0) notes.push(`started nodes ${started.map((p) => `:${p}`).join(', ')}`)

    if (healthy()) return notes.length > 0 ? [...notes, 'cluster ok'].join('; ') : 'already running'
    // Restarted nodes with a nodes.conf rejoin on their own; give them a moment first.
    if (PORTS.some(configured) && (await waitFor(healthy, 10_000, 500))) {
      return [...notes, 'cluster rejoined'].join('; ')
    }
    if (PORTS.some(configured)) {
      // Stale or partial cluster (old node ids, missing slots): wipe these three nodes only.
      for (const port of PORTS) {
        cli(port, 'flushall')
        const reset = cli(port, 'cluster', 'reset', 'hard')
        if (!reset.ok) throw new Error(`CLUSTER RESET on :${port} failed: ${reset.output}`)
      }
      notes.push('reset a broken cluster')
    }
    const nodes = PORTS.map((p) => `${HOST}:${p}`)
    run('redis-cli', [
      '--cluster',
      'create',
      ...nodes,
      ...flags({ 'cluster-replicas': 0, 'cluster-yes': [] }),
    ])
    if (!(await waitFor(healthy, 30_000, 500))) throw new Error('cluster_state did not become ok within 30 s')
    notes.push('created the cluster')
    return notes.join('; ')
  },
  async down() {
    const stopped = []
    for (const port of PORTS) {
      const pid = livePid(pidFile(port), 'redis-server')
      if (pid === undefined) continue
      process.kill(pid, 'SIGTERM')
      if (!(await waitFor(async () => !(await redisPing(port)), 10_000))) {
        throw new Error(`node :${port} (pid ${pid}) did not stop`)
      }
      rmSync(pidFile(port), { force: true })
      stopped.push(`:${port}`)
    }
    return stopped.length > 0 ? `stopped nodes ${stopped.join(', ')}` : 'nothing started by this script'
  },
}
