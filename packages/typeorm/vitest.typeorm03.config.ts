import { fileURLToPath } from 'node:url'
import { defineConfig, mergeConfig } from 'vitest/config'
import base from './vitest.config.js'

/**
 * The same suites against TypeORM 0.3.x (installed as the alias "typeorm-03"): `npm run test:typeorm03`.
 * The multi-process run and the published-package check load TypeORM outside Vite, so they run on 1.x only.
 */
export default mergeConfig(
  base,
  defineConfig({
    resolve: {
      alias: [
        {
          find: /^typeorm$/,
          replacement: fileURLToPath(new URL('../../node_modules/typeorm-03/index.js', import.meta.url)),
        },
      ],
    },
    test: {
      exclude: ['test/multiprocess.test.ts', 'test/package-exports.test.ts', 'node_modules/**'],
      env: { ORMCACHE_TYPEORM_VERSION: '0.3' },
    },
  }),
)
