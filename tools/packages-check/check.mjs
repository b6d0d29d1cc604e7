#!/usr/bin/env node
// Checks the published packages as a user installs them: `npm pack` each one, then
// 1. the tarball holds exactly what a user needs (package.json, README, LICENSE, and for every
//    source file its .js, .d.ts and .d.cts; a .cjs shim per export; no maps, tests or sources);
// 2. publint and arethetypeswrong (strict profile: node10, node16 CJS/ESM, bundler) find nothing;
// 3. consumers/uses.ts, which imports every entry point, type-checks against the unpacked
//    tarballs under every module resolution setting (settings.mjs) with TypeScript 5 and 7, and
//    the README's NestJS example type-checks with NestJS's default tsconfig;
// 4. the API reports (api/*.api.md) are up to date (api-report.mjs);
// 5. the tarballs, with the peers a user installs beside them, resolve on this Node (>= 20.19)
//    with --engine-strict: no package in our dependency trees demands a newer Node.
// Only step 5 talks to the registry (metadata only: --package-lock-only downloads no tarball).
// Needs the packages built (turbo's ^build does it).
import { execFile, execFileSync } from 'node:child_process'
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { availableParallelism } from 'node:os'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { publint } from 'publint'
import { formatMessage } from 'publint/utils'
import { checkApiReports } from './api-report.mjs'
import { PACKAGES, repoRoot } from './packages.mjs'
import { INSTALLS, SETTINGS } from './settings.mjs'

const here = fileURLToPath(new URL('.', import.meta.url))
const work = join(repoRoot, '.packages-check')
const require = createRequire(import.meta.url)
/** TypeScript 5 is the repo's (root node_modules); 7 is this workspace's own devDependency. */
const COMPILERS = {
  5: join(repoRoot, 'node_modules/typescript/bin/tsc'),
  7: join(dirname(require.resolve('typescript/package.json')), 'bin/tsc'),
}
const run = promisify(execFile)
const failures = []
let passed = 0
const step = async (name, check) => {
  const started = performance.now()
  try {
    await check()
    passed++
    console.log(`ok   ${name} (${Math.round(performance.now() - started)} ms)`)
  } catch (error) {
    failures.push(name)
    console.log(`FAIL ${name}\n${String(error.stdout ?? '')}${String(error.stderr ?? '')}${error.message}`)
  }
}

rmSync(work, { recursive: true, force: true })
mkdirSync(join(work, 'tarballs'), { recursive: true })
const packed = JSON.parse(
  execFileSync(
    'npm',
    [
      'pack',
      '--json',
      '--pack-destination',
      join(work, 'tarballs'),
      ...PACKAGES.flatMap((p) => ['-w', p.name]),
    ],
    { cwd: repoRoot, encoding: 'utf8' },
  ),
)

const consumer = join(work, 'consumer')
for (const pkg of PACKAGES) {
  const result = packed.find((entry) => entry.name === pkg.name)
  const tarball = join(work, 'tarballs', result.filename)
  await step(`${pkg.name}: packed files`, () =>
    assertFiles(
      pkg,
      result.files.map((file) => file.path),
    ),
  )
  await step(`${pkg.name}: publint`, async () => {
    const { messages } = await publint({ pack: { tarball: readFileSync(tarball).buffer }, strict: true })
    const problems = messages.map((message) =>
      formatMessage(message, JSON.parse(readFileSync(join(pkg.dir, 'package.json')))),
    )
    if (problems.length > 0) throw new Error(problems.join('\n'))
  })
  await step(`${pkg.name}: arethetypeswrong`, () => {
    const cli = dirname(require.resolve('@arethetypeswrong/cli/package.json'))
    const attw = join(cli, JSON.parse(readFileSync(join(cli, 'package.json'), 'utf8')).bin.attw)
    execFileSync(
      process.execPath,
      [
        attw,
        tarball,
        '--profile',
        'strict',
        '--no-definitely-typed',
        '--format',
        'table-flipped',
        '--no-color',
      ],
      {
        encoding: 'utf8',
      },
    )
  })
  const unpacked = join(consumer, 'node_modules', pkg.name)
  mkdirSync(unpacked, { recursive: true })
  execFileSync('tar', ['-xzf', tarball, '-C', unpacked, '--strip-components=1'])
}

// Consumers live inside the repository, so third-party packages (typeorm, @prisma/client, ioredis,
// @nestjs/*) resolve from its node_modules while @ormcache/* resolve to the unpacked tarballs.
await step('the NestJS example in packages/typeorm/README.md is the one type-checked here', () => {
  const example = readFileSync(join(here, 'consumers/nest-typeorm.ts'), 'utf8').replace(/^(\/\/.*\n)+/, '')
  const readme = readFileSync(join(repoRoot, 'packages/typeorm/README.md'), 'utf8')
  if (!readme.includes(example))
    throw new Error('README and consumers/nest-typeorm.ts differ: keep them identical')
})

// Independent compiler runs, as many at once as there are cores.
const typeChecks = SETTINGS.flatMap((setting) => {
  const dir = join(consumer, setting.name)
  mkdirSync(dir, { recursive: true })
  const source = setting.file.startsWith('uses.') ? 'uses.ts' : setting.file
  cpSync(join(here, 'consumers', source), join(dir, setting.file))
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({ compilerOptions: setting.options, files: [setting.file] }),
  )
  return (setting.compilers ?? Object.keys(COMPILERS)).map(
    (version) => () =>
      step(`types: ${setting.name}, TypeScript ${version}`, () =>
        run(process.execPath, [COMPILERS[version], '-p', join(dir, 'tsconfig.json')], { encoding: 'utf8' }),
      ),
  )
})
await Promise.all(
  Array.from({ length: availableParallelism() }, async () => {
    while (typeChecks.length > 0) await typeChecks.shift()()
  }),
)

// What users of each adapter install (INSTALLS in settings.mjs).
const installs = INSTALLS.map((install) => {
  const dir = join(work, 'installs', install.name)
  mkdirSync(dir, { recursive: true })
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({ name: `${install.name}-app`, version: '1.0.0', private: true }),
  )
  const tarballs = install.packages.map((name) =>
    join(work, 'tarballs', packed.find((entry) => entry.name === name).filename),
  )
  return step(`installs on Node ${process.versions.node} without EBADENGINE: ${install.name}`, () =>
    run(
      'npm',
      [
        'install',
        '--package-lock-only',
        '--engine-strict',
        '--no-audit',
        '--no-fund',
        ...tarballs,
        ...install.peers,
      ],
      {
        cwd: dir,
        encoding: 'utf8',
      },
    ),
  )
})
await Promise.all(installs)

await step('API reports are up to date (npm run api:update rewrites them)', () => checkApiReports())

console.log(`\n${passed} passed, ${failures.length} failed`)
if (failures.length > 0) {
  console.log(`failed: ${failures.join('; ')}`)
  process.exitCode = 1
}

/**
 * Exactly what a user needs: the manifest, README and LICENSE, and for every source file of the
 * package its ESM build and both declaration files, plus the CommonJS shim of every export.
 */
function assertFiles(pkg, files) {
  const manifest = JSON.parse(readFileSync(join(pkg.dir, 'package.json'), 'utf8'))
  const expected = new Set(['package.json', 'README.md', 'LICENSE'])
  const src = join(pkg.dir, 'src')
  for (const entry of readdirSync(src, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.ts')) continue
    const base = `dist/${relative(src, join(entry.parentPath, entry.name)).replace(/\.ts$/, '')}`
    for (const extension of ['.js', '.d.ts', '.d.cts']) expected.add(base + extension)
  }
  for (const target of Object.values(manifest.exports)) {
    if (typeof target === 'object') expected.add(target.require.default.replace(/^\.\//, ''))
  }
  const actual = new Set(files)
  const missing = [...expected].filter((file) => !actual.has(file))
  const extra = [...actual].filter((file) => !expected.has(file))
  if (missing.length > 0 || extra.length > 0) {
    throw new Error(
      `missing from the tarball: ${missing.join(', ') || '-'}\nnot expected in it: ${extra.join(', ') || '-'}`,
    )
  }
}
