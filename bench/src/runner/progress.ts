/**
 * Progress lines on stderr (stdout stays free for the summary), each prefixed with the scenario
 * and the time since the run started, so a long run shows where it is and how fast it moves.
 */
export class Progress {
  private readonly started = performance.now()
  private scenario = ''

  constructor(private readonly quiet = false) {}

  begin(scenario: string, title: string): void {
    this.scenario = scenario
    this.write(`== ${title}`)
  }

  step(message: string): void {
    this.write(message)
  }

  private write(message: string): void {
    if (this.quiet) return
    const seconds = ((performance.now() - this.started) / 1000).toFixed(1).padStart(6)
    process.stderr.write(`[${seconds}s]${this.scenario ? ` ${this.scenario}:` : ''} ${message}\n`)
  }
}
