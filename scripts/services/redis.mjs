import { mkdirSync } from 'node:fs'
import { redisPing, waitFor } from './probe.mjs'
import { aptInstall, flags, hasBinary, run } from './run.mjs'

const PORT = 6379

export const redis = {
  name: 'redis',
  address: `127.0.0.1:${PORT}`,
  check: () => redisPing(PORT),
  async up() {
    if (await redisPing(PORT)) return 'already running'
    const installed = hasBinary('redis-server') ? '' : `${aptInstall('redis-server')}; `
    mkdirSync('/var/lib/redis', { recursive: true })
    mkdirSync('/var/log/redis', { recursive: true })
    run(
      'redis-server',
      flags({
        daemonize: 'yes',
        bind: ['127.0.0.1', '-::1'],
        port: PORT,
        save: '',
        appendonly: 'no',
        dir: '/var/lib/redis',
        logfile: '/var/log/redis/ci.log',
      }),
    )
    if (!(await waitFor(() => redisPing(PORT), 15_000))) throw new Error('did not answer PING within 15 s')
    return `${installed}started`
  },
}
