import { ConflictError } from '../errors.js'
import {
  runHomepageScenario,
  type ScenarioPlan,
  type ScenarioProgress,
  type ScenarioRun,
} from './homepage.js'

export interface ScenarioState {
  running: boolean
  plan: ScenarioPlan | undefined
  progress: ScenarioProgress | undefined
  /** Rows of the last finished (or running) scenario, in order. */
  results: ScenarioRun[]
  error: string | undefined
  finishedAt: number | undefined
}

/** The dashboard's "run the homepage scenario" button: one scenario at a time, in the background. */
export class ScenarioRunner {
  private state: ScenarioState = {
    running: false,
    plan: undefined,
    progress: undefined,
    results: [],
    error: undefined,
    finishedAt: undefined,
  }
  private current: Promise<void> = Promise.resolve()

  constructor(private readonly baseUrl: () => string) {}

  start(plan: ScenarioPlan): void {
    if (this.state.running) throw new ConflictError('a scenario is already running; wait for it to finish')
    this.state = {
      running: true,
      plan,
      progress: undefined,
      results: [],
      error: undefined,
      finishedAt: undefined,
    }
    this.current = this.run(plan)
  }

  snapshot(): ScenarioState {
    return { ...this.state, results: [...this.state.results] }
  }

  /** Resolves when the running scenario (if any) has finished. */
  idle(): Promise<void> {
    return this.current
  }

  private async run(plan: ScenarioPlan): Promise<void> {
    try {
      // One ORM/mode at a time, so each row lands on the dashboard as soon as it is measured.
      for (const orm of plan.orms) {
        for (const cache of plan.modes) {
          const [row] = await runHomepageScenario(
            this.baseUrl(),
            { ...plan, orms: [orm], modes: [cache] },
            (progress) => {
              this.state.progress = {
                ...progress,
                run: this.state.results.length + 1,
                runs: plan.orms.length * plan.modes.length,
              }
            },
          )
          if (row !== undefined) this.state.results.push(row)
        }
      }
    } catch (error) {
      this.state.error = error instanceof Error ? error.message : String(error)
    } finally {
      this.state.running = false
      this.state.finishedAt = Date.now()
    }
  }
}
