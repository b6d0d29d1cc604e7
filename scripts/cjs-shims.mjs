#!/usr/bin/env node
// Writes the CommonJS entry of every export as a one-line shim over the ESM build. Node >= 20.19
// loads ESM through require(), so CommonJS and ESM users share one module instance: no
// dual-package hazard (two copies of classes, caches or error types).
import { readFileSync, writeFileSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'

const pkg = JSON.parse(readFileSync('package.json', 'utf8'))
for (const target of Object.values(pkg.exports ?? {})) {
  if (typeof target !== 'object' || typeof target.require !== 'string') continue
  const esm = `./${basename(target.import)}`
  const file = join(dirname(target.require), basename(target.require))
  writeFileSync(file, `'use strict'\nmodule.exports = require(${JSON.stringify(esm)})\n`)
}
