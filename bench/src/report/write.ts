import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { renderMarkdown } from './markdown.js'
import { renderChart } from './svg.js'
import type { RunReport } from './types.js'

export interface WrittenFiles {
  markdown: string
  json: string
  charts: string[]
}

/** Writes latest.md, latest.json and one SVG chart per scenario that has one into `dir`. */
export async function writeResults(dir: string, run: RunReport): Promise<WrittenFiles> {
  await mkdir(dir, { recursive: true })
  const chartFiles = new Map<string, string>()
  const charts: string[] = []
  for (const scenario of run.scenarios) {
    if (scenario.chart === undefined) continue
    const file = `${scenario.id}.svg`
    await writeFile(join(dir, file), renderChart(scenario.chart))
    chartFiles.set(scenario.id, file)
    charts.push(join(dir, file))
  }
  const markdown = join(dir, 'latest.md')
  const json = join(dir, 'latest.json')
  await writeFile(markdown, renderMarkdown(run, chartFiles))
  await writeFile(json, `${JSON.stringify(run, null, 2)}\n`)
  return { markdown, json, charts }
}
