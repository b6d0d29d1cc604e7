import assert from 'node:assert/strict'
import crypto from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import type { BusMessage, BusSubscription, InvalidationBus } from '../tiers/bus.js'
import type { ContractRunner } from './store-contract.js'

/**
 * One process's bus on `channel`. The contract calls it twice with the same channel and expects
 * the two buses to hear each other, as two processes sharing a server would.
 */
export type BusFactory = (channel: string) => Promise<InvalidationBus> | InvalidationBus

const WAIT_MS = 5_000

/** Records what a subscription hears. */
function listener(): BusSubscription & { messages: BusMessage[]; states: boolean[] } {
  const messages: BusMessage[] = []
  const states: boolean[] = []
  return {
    messages,
    states,
    onMessage: (message) => messages.push(message),
    onState: (connected) => states.push(connected),
  }
}

async function until(what: string, done: () => boolean): Promise<void> {
  const deadline = Date.now() + WAIT_MS
  while (!done()) {
    if (Date.now() > deadline) assert.fail(`timed out after ${WAIT_MS} ms waiting until ${what}`)
    await sleep(5)
  }
}

/**
 * The behaviour every `InvalidationBus` must have for L1 coherence: a subscriber is told when it
 * is connected, hears what another process publishes, unchanged and in order, and hears nothing
 * more once unsubscribed. Run it against a real backend:
 *
 *   runBusContract('redis', (channel) => new RedisBus(client, channel), { describe, it, beforeAll, afterAll })
 */
export function runBusContract(name: string, factory: BusFactory, runner: ContractRunner): void {
  const { describe, it, afterAll } = runner
  const buses: InvalidationBus[] = []
  const run = crypto.randomBytes(6).toString('hex')
  let tests = 0
  /** Two processes' buses on a channel of this test's own. */
  const pair = async (): Promise<[InvalidationBus, InvalidationBus]> => {
    const channel = `bus-contract:${run}:${++tests}`
    const a = await factory(channel)
    const b = await factory(channel)
    buses.push(a, b)
    return [a, b]
  }
  const message = (n: number, origin = 'a'): BusMessage => ({
    origin,
    tags: [`t${n}`, 'ünïcødé'],
    keys: n % 2 === 0 ? [`k${n}`] : [],
    everything: n === 3,
  })

  describe(`invalidation bus contract: ${name}`, () => {
    afterAll(async () => {
      for (const bus of buses) await bus.close()
    }, 30_000)

    it('tells a subscriber when it is connected', async () => {
      const [, b] = await pair()
      const heard = listener()
      const unsubscribe = await b.subscribe(heard)
      await until('the subscription reports connected', () => heard.states.at(-1) === true)
      unsubscribe()
    })

    it("delivers another process's messages unchanged and in order", async () => {
      const [a, b] = await pair()
      const heard = listener()
      const unsubscribe = await b.subscribe(heard)
      await until('the subscription reports connected', () => heard.states.at(-1) === true)
      const sent = [1, 2, 3, 4].map((n) => message(n))
      for (const m of sent) await a.publish(m)
      await until('every message arrived', () => heard.messages.length >= sent.length)
      assert.deepEqual(heard.messages, sent)
      unsubscribe()
    })

    it('delivers to every subscriber, including those of the publishing bus', async () => {
      const [a, b] = await pair()
      const onA = listener()
      const onB = listener()
      const offA = await a.subscribe(onA)
      const offB = await b.subscribe(onB)
      await until(
        'both subscriptions report connected',
        () => onA.states.at(-1) === true && onB.states.at(-1) === true,
      )
      await a.publish(message(5, 'a'))
      await until('both heard it', () => onA.messages.length === 1 && onB.messages.length === 1)
      assert.deepEqual(onA.messages, [message(5, 'a')])
      assert.deepEqual(onB.messages, [message(5, 'a')])
      offA()
      offB()
    })

    it('stops delivering once unsubscribed', async () => {
      const [a, b] = await pair()
      const gone = listener()
      const stays = listener()
      const offGone = await b.subscribe(gone)
      const offStays = await b.subscribe(stays)
      await until('the subscriptions report connected', () => stays.states.at(-1) === true)
      offGone()
      await a.publish(message(6))
      await until('the remaining subscriber heard it', () => stays.messages.length === 1)
      assert.deepEqual(gone.messages, [])
      offStays()
    })
  })
}
