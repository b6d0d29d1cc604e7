// The TypeScript settings a consumer of the published packages may use. Each one type-checks
// consumers/uses.ts (as .ts, .cts or .mts) against the packed tarballs, with every compiler in
// COMPILERS. `skipLibCheck: false` so an error inside our declaration files fails the check too.
const strict = { strict: true, noEmit: true, skipLibCheck: false, types: ['node'], target: 'ES2022' }

export const SETTINGS = [
  // CommonJS projects with the classic resolver: NestJS's `nest new` default. TypeScript 7 removed
  // moduleResolution node10, so only 5.x checks it.
  {
    name: 'node10',
    file: 'uses.ts',
    compilers: ['5'],
    options: { ...strict, module: 'commonjs', moduleResolution: 'node10', esModuleInterop: true },
  },
  // Node's own resolution, from a CommonJS (.cts) and an ESM (.mts) file.
  ...['node16', 'nodenext'].flatMap((mode) => [
    { name: `${mode}-cjs`, file: 'uses.cts', options: { ...strict, module: mode, moduleResolution: mode } },
    { name: `${mode}-esm`, file: 'uses.mts', options: { ...strict, module: mode, moduleResolution: mode } },
  ]),
  {
    name: 'bundler',
    file: 'uses.ts',
    options: { ...strict, module: 'preserve', moduleResolution: 'bundler' },
  },
  // The README's NestJS example with the tsconfig `nest new` writes (CommonJS, decorators; no
  // moduleResolution, so node10 on TypeScript 5 and bundler on 7).
  {
    name: 'nestjs',
    file: 'nest-typeorm.ts',
    options: {
      module: 'commonjs',
      declaration: true,
      removeComments: true,
      emitDecoratorMetadata: true,
      experimentalDecorators: true,
      allowSyntheticDefaultImports: true,
      target: 'ES2023',
      noEmit: true,
      skipLibCheck: true,
      strictNullChecks: true,
      forceConsistentCasingInFileNames: true,
      noImplicitAny: false,
      types: ['node'],
    },
  },
]

/**
 * What a user installs next to our packages (their peers, a driver), resolved with
 * --engine-strict on the Node that runs the check. The Prisma CLI (`prisma`, a dev dependency of
 * every Prisma project) is left out: its own tree requires Node >= 22 (@prisma/streams-local), which
 * is Prisma's, not ours.
 */
export const INSTALLS = [
  {
    name: 'prisma-redis',
    packages: ['@ormcache/core', '@ormcache/prisma'],
    peers: [
      '@prisma/client@^7',
      '@prisma/adapter-pg@^7',
      'pg',
      'ioredis@^5',
      '@opentelemetry/api@^1.9',
      'prom-client@^15',
    ],
  },
  {
    name: 'typeorm-memcached',
    packages: ['@ormcache/core', '@ormcache/typeorm'],
    peers: ['typeorm@^1', 'reflect-metadata', 'pg', 'memjs@^1', '@types/memjs@^1'],
  },
  {
    name: 'postgres-stream',
    packages: ['@ormcache/core', '@ormcache/postgres'],
    peers: ['pg'],
  },
  {
    name: 'typeorm-0.3-redis',
    packages: ['@ormcache/core', '@ormcache/typeorm'],
    peers: ['typeorm@^0.3.31', 'reflect-metadata', 'mysql2', 'ioredis@^5'],
  },
]
