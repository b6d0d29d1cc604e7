#!/usr/bin/env node
// Builds the package in the current directory into dist/ as it is published:
// - a clean dist/, so a file whose source was deleted can never be packed;
// - the ESM build and its declarations (.js, .d.ts) from tsc;
// - for every export, a CommonJS entry (.cjs) that is a one-line shim over the ESM build. Node >=
//   20.19 loads ESM through require(), so CommonJS and ESM users share one module instance: no
//   dual-package hazard (two copies of classes, caches or error types);
// - a CommonJS copy of every declaration file (.d.cts, importing ./x.cjs instead of ./x.js), which
//   the `require` condition points at. TypeScript takes a `.d.ts` in a "type": "module" package for
//   ESM, and under `module: node16` a CommonJS file may not import ESM types at all (TS1479); the
//   .d.cts tree describes the same API as CommonJS, self-contained.
// No source maps or declaration maps are emitted: they would point at src/, which is not shipped.
import { execFileSync } from 'node:child_process'
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { basename, dirname, join } from 'node:path'

rmSync('dist', { recursive: true, force: true })
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')
try {
  execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { stdio: 'inherit' })
} catch {
  process.exit(1) // tsc printed the errors
}

const pkg = JSON.parse(readFileSync('package.json', 'utf8'))
for (const target of Object.values(pkg.exports ?? {})) {
  const require = target?.require?.default
  if (typeof require !== 'string') continue
  const esm = `./${basename(target.import.default)}`
  writeFileSync(
    join(dirname(require), basename(require)),
    `'use strict'\nmodule.exports = require(${JSON.stringify(esm)})\n`,
  )
}

/** `from './x.js'`, `import('./x.js')` and `import './x.js'` with a relative specifier. */
const RELATIVE_JS = /((?:from|import)\s*\(?\s*['"])(\.{1,2}\/[^'"]+)\.js(['"])/g
for (const entry of readdirSync('dist', { recursive: true, withFileTypes: true })) {
  if (!entry.isFile() || !entry.name.endsWith('.d.ts')) continue
  const file = join(entry.parentPath, entry.name)
  const source = readFileSync(file, 'utf8')
  writeFileSync(file.replace(/\.d\.ts$/, '.d.cts'), source.replace(RELATIVE_JS, '$1$2.cjs$3'))
}
