import {
  type AfterQueryEvent,
  type BeforeQueryEvent,
  type EntitySubscriberInterface,
  EventSubscriber,
} from 'typeorm'

/**
 * A subscriber the tests steer: it can fail the next matching statement, or hold the next
 * matching statement after it ran (between the cache's version snapshot and its store).
 */
export class QueryProbe {
  failNext: RegExp | undefined
  pauseNext: { match: RegExp; until: Promise<void>; reached: () => void } | undefined

  subscriber(): new () => EntitySubscriberInterface {
    const probe = this
    @EventSubscriber()
    class ProbeSubscriber implements EntitySubscriberInterface {
      beforeQuery(event: BeforeQueryEvent): void {
        if (probe.failNext?.test(event.query)) {
          probe.failNext = undefined
          throw new Error('injected query failure')
        }
      }
      async afterQuery(event: AfterQueryEvent): Promise<void> {
        const pause = probe.pauseNext
        if (pause?.match.test(event.query)) {
          probe.pauseNext = undefined
          pause.reached()
          await pause.until
        }
      }
    }
    return ProbeSubscriber
  }
}
