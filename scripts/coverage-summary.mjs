#!/usr/bin/env node
// Prints each package's coverage totals after `npm test`. turbo shows only failing tasks' logs
// (--output-logs=errors-only), so without this the report vitest writes per package stays unseen.
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

const root = join(import.meta.dirname, '..', 'packages')
const rows = []
for (const name of readdirSync(root).sort()) {
  const file = join(root, name, 'coverage', 'coverage-summary.json')
  if (!existsSync(file)) continue
  const { total } = JSON.parse(readFileSync(file, 'utf8'))
  rows.push({ name, ...Object.fromEntries(['lines', 'branches', 'functions'].map((k) => [k, total[k].pct])) })
}
if (rows.length === 0) {
  console.log('coverage: no report found (run the tests first)')
} else {
  console.log("\ncoverage (% of each package's src; HTML in packages/<name>/coverage/index.html)")
  console.log('package      lines  branches  functions')
  for (const r of rows)
    console.log(
      `${r.name.padEnd(12)} ${String(r.lines).padStart(5)}  ${String(r.branches).padStart(8)}  ${String(r.functions).padStart(9)}`,
    )
}
