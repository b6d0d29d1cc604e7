#!/usr/bin/env node
// The public API of every entry point, as API Extractor sees the published declarations:
// packages/<name>/api/<entry>.api.md. A change to what users can import shows up in review as a
// diff of these files.
//   node api-report.mjs            check: fails if a report is out of date, or if a public
//                                  signature uses a type the entry point does not export
//   node api-report.mjs --update   rewrites the reports (`npm run api:update` at the root)
// Reads dist/*.d.ts, so the packages must be built first (`npm run api:update` builds them).
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { CompilerState, Extractor, ExtractorConfig, ExtractorLogLevel } from '@microsoft/api-extractor'
import { PACKAGES, repoRoot } from './packages.mjs'

/** TypeScript 5, the compiler the packages are built with, not API Extractor's bundled one. */
const typescriptCompilerFolder = join(repoRoot, 'node_modules/typescript')

export function checkApiReports({ update = false } = {}) {
  const temp = mkdtempSync(join(tmpdir(), 'ormcache-api-'))
  const problems = []
  try {
    for (const pkg of PACKAGES) {
      mkdirSync(join(pkg.dir, 'api'), { recursive: true })
      let compilerState
      let rootExports = new Set()
      for (const entry of pkg.entries) {
        const config = ExtractorConfig.prepare({
          configObject: {
            projectFolder: pkg.dir,
            mainEntryPointFilePath: entry.types,
            compiler: { tsconfigFilePath: join(pkg.dir, 'tsconfig.build.json') },
            apiReport: {
              enabled: true,
              reportFolder: join(pkg.dir, 'api'),
              reportTempFolder: temp,
              reportFileName: `${entry.name}.api.md`,
            },
            docModel: { enabled: false },
            dtsRollup: { enabled: false },
            tsdocMetadata: { enabled: false },
            messages: {
              compilerMessageReporting: { default: { logLevel: ExtractorLogLevel.Error } },
              extractorMessageReporting: {
                default: { logLevel: ExtractorLogLevel.None },
                // A public signature names a type the entry point does not export.
                'ae-forgotten-export': { logLevel: ExtractorLogLevel.Error, addToApiReportFile: false },
              },
              tsdocMessageReporting: { default: { logLevel: ExtractorLogLevel.None } },
            },
          },
          configObjectFullPath: join(pkg.dir, 'api-extractor.json'),
          packageJsonFullPath: join(pkg.dir, 'package.json'),
        })
        if (compilerState === undefined) {
          compilerState = CompilerState.create(config, {
            additionalEntryPoints: pkg.entries.map((e) => e.types),
            typescriptCompilerFolder,
          })
          rootExports = exportedNames(compilerState.program, pkg.entries.find((e) => e.subpath === '.').types)
        }
        const result = Extractor.invoke(config, {
          localBuild: update,
          compilerState,
          typescriptCompilerFolder,
          messageCallback(message) {
            message.handled = true
            // A subpath's signature may use a type that the package's root entry exports.
            const symbol = /The symbol "([^"]+)"/.exec(message.text)?.[1]
            if (
              message.messageId === 'ae-forgotten-export' &&
              entry.subpath !== '.' &&
              rootExports.has(symbol)
            ) {
              return
            }
            if (message.logLevel === ExtractorLogLevel.Error) {
              problems.push(`${pkg.name} ${entry.subpath}: ${message.formatMessageWithLocation(repoRoot)}`)
            }
          },
        })
        if (result.apiReportChanged && !update) {
          problems.push(`${pkg.name} ${entry.subpath}: api/${entry.name}.api.md is out of date`)
        }
      }
    }
  } finally {
    rmSync(temp, { recursive: true, force: true })
  }
  if (problems.length > 0) {
    throw new Error(
      `${problems.join('\n')}\nRun \`npm run api:update\` and commit the reports if the change is intended.`,
    )
  }
}

/** The names an entry point exports, and the names they are declared under. */
function exportedNames(program, file) {
  const checker = program.getTypeChecker()
  const names = new Set()
  const module = checker.getSymbolAtLocation(program.getSourceFile(file))
  for (const symbol of checker.getExportsOfModule(module)) {
    names.add(symbol.getName())
    if (symbol.flags & 2097152 /* ts.SymbolFlags.Alias */)
      names.add(checker.getAliasedSymbol(symbol).getName())
  }
  return names
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  checkApiReports({ update: process.argv.includes('--update') })
  console.log(process.argv.includes('--update') ? 'API reports written' : 'API reports are up to date')
}
