import { readdirSync, readFileSync } from 'node:fs'

/** CPU used so far (µs): this process, and every Redis and PostgreSQL server process on the box. */
export interface CpuReading {
  client: number
  redis: number
  postgres: number
}

/**
 * On a box where the app, Redis and PostgreSQL share two cores, ops/s moves by ±30 % between runs
 * while CPU per operation moves far less; both are reported. Server CPU comes from /proc
 * (10 ms ticks), so it is only meaningful over a whole round.
 */
export function readCpu(): CpuReading {
  const own = process.cpuUsage()
  return { client: own.user + own.system, redis: serverCpu('redis-server'), postgres: serverCpu('postgres') }
}

export function cpuSince(before: CpuReading): CpuReading {
  const now = readCpu()
  return {
    client: now.client - before.client,
    redis: now.redis - before.redis,
    postgres: now.postgres - before.postgres,
  }
}

/** CPU (µs) used so far by every process whose command name starts with `name`, and by its exited children; 0 off Linux. */
export function serverCpu(name: string): number {
  let ticks = 0
  let pids: string[]
  try {
    pids = readdirSync('/proc')
  } catch {
    return 0
  }
  for (const pid of pids) {
    if (!/^\d+$/.test(pid)) continue
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'))
      if (!comm.startsWith(name)) continue
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      // Own time plus that of exited children: PostgreSQL backends end when a pool closes an
      // idle connection, and their time then moves to the postmaster's children's time. Live
      // children are counted once, by themselves.
      ticks += Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14])
    } catch {
      // The process ended between listing and reading.
    }
  }
  return ticks * 10_000
}
