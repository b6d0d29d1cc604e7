// Loaded by package-exports.test.ts: a plain CommonJS consumer.
const core = require('@ormcache/core')
const testing = require('@ormcache/core/testing')
const cache = core.createCache()
cache
  .wrap('k', async () => ({ at: new Date(0), n: 1n }))
  .then(() => cache.get('k'))
  .then((value) => {
    process.stdout.write(
      JSON.stringify({
        createCache: typeof core.createCache,
        runStoreContract: typeof testing.runStoreContract,
        roundTrip: value.at instanceof Date && value.n === 1n,
        errorBrand: core.OrmCacheError.is(new core.InvalidKeyError('x')),
      }),
    )
  })
