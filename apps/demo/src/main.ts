import { configFromEnv } from './config.js'
import { createDemo } from './demo.js'

/** `npm run demo`: start the app, print where it is, stop cleanly on Ctrl-C. */
async function main(): Promise<void> {
  const config = configFromEnv()
  const demo = await createDemo(config)
  const url = await demo.listen()
  const seeded = demo.setup.seeded ? ` (seeded ${demo.setup.users} users)` : ''
  console.log(
    [
      '',
      `  ormcache demo  ${url}`,
      '',
      `  database  ${config.database.display}${seeded}`,
      `  cache     ${demo.store.display}`,
      '',
      `  dashboard        ${url}/`,
      `  Prisma routes    ${url}/prisma/home   /prisma/users/1   /prisma/feed   /prisma/trending`,
      `  TypeORM routes   ${url}/typeorm/home  /typeorm/users/1  /typeorm/feed  /typeorm/trending`,
      `  load scenario    npm run demo:load   (or the buttons on the dashboard)`,
      '',
    ].join('\n'),
  )
  let stopping = false
  const stop = async (signal: string) => {
    if (stopping) return
    stopping = true
    console.log(`\n  ${signal}: flushing pending view counts and closing…`)
    await demo.close()
    process.exit(0)
  }
  process.on('SIGINT', () => void stop('SIGINT'))
  process.on('SIGTERM', () => void stop('SIGTERM'))
}

main().catch((error: unknown) => {
  const code = (error as { code?: unknown } | null)?.code
  if (code === 'EADDRINUSE')
    console.error(`demo: ${(error as Error).message}; set PORT to another port (PORT=0 picks a free one)`)
  else console.error(error instanceof Error ? `demo: ${error.message}` : error)
  process.exit(1)
})
