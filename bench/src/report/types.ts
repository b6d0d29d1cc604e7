/** A table in latest.md; cells are already formatted. */
export interface Table {
  title: string
  columns: string[]
  rows: string[][]
}

export interface Bar {
  label: string
  value: number
  /** Which library the bar belongs to; picks its colour. */
  library: string
}

/** Groups of horizontal bars, e.g. one group per operation, one bar per library. */
export interface Chart {
  title: string
  unit: string
  scale: 'linear' | 'log'
  groups: { label: string; bars: Bar[] }[]
}

export interface Target {
  name: string
  measured: string
  target: string
  met: boolean
}

export interface ScenarioReport {
  id: string
  title: string
  /** What is measured and how, one paragraph. */
  method: string
  tables: Table[]
  chart?: Chart
  targets?: Target[]
  /** Differences between libraries' configuration or semantics, and caveats. */
  notes: string[]
  /** Raw numbers for latest.json. */
  data: unknown
  /** Libraries that could not be measured; the run reports them as failures (exit code 1). */
  errors?: string[]
}

export interface RunReport {
  startedAt: string
  finishedAt: string
  mode: 'quick' | 'full'
  command: string
  /** 'build': the packages' dist (npm run bench); 'source': their TypeScript sources via tsx paths. */
  packagesFrom: 'build' | 'source'
  machine: {
    node: string
    platform: string
    cpus: number
    cpuModel: string
    memoryGiB: number
    loadAverageAtStart: number[]
    loadAverageAtEnd: number[]
  }
  versions: Record<string, string>
  scenarios: ScenarioReport[]
  failures: { scenario: string; error: string }[]
}
