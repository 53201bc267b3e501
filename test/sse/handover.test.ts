/** The hand-over from a replay plan to live events (src/sse/handover.ts), as a table. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { ReplayPlan, TickerEvent } from '../../src/bus/index.ts'
import { lastOfEach, planHandover, type PendingFrame } from '../../src/sse/handover.ts'

const event = (topic: string, seq: number): TickerEvent => ({ id: `ep-${seq}`, seq, topic, time: 0, data: null, json: 'null' })
const held = (...seqs: number[]): PendingFrame[] => seqs.map((seq) => ({ seq, frame: Buffer.from(`f${seq}`) }))
const plan = (events: TickerEvent[], headSeq: number, reset?: ReplayPlan['reset']): ReplayPlan =>
  ({ events, headSeq, cursor: `ep-${headSeq}`, ...(reset === undefined ? {} : { reset }) })
const ids = (events: readonly TickerEvent[]): string[] => events.map((e) => `${e.topic}${e.seq}`)

const GONE = { topics: ['a'], reason: 'evicted' as const }

test('table: what the client gets and where live starts', () => {
  const cases: Array<[what: string, plan: ReplayPlan, held: PendingFrame[], lastOnly: boolean,
    reset: { id?: string } | undefined, events: string[], liveAfterSeq: number]> = [
      ['events, nothing held', plan([event('a', 1), event('b', 2)], 2), [], false, undefined, ['a1', 'b2'], 2],
      ['held frames up to the plan are covered by it; live starts after its head', plan([event('a', 3)], 4), held(3, 4, 5), false, undefined, ['a3'], 4],
      ['reset followed by events: no id (the events set the cursor)', plan([event('a', 7)], 7, GONE), [], false, {}, ['a7'], 7],
      ['reset with nothing after it: the cursor as its id', plan([], 9, GONE), [], false, { id: 'ep-9' }, [], 9],
      ['reset, then only held frames the plan covers: still the cursor', plan([], 9, GONE), held(8, 9), false, { id: 'ep-9' }, [], 9],
      ['reset, then a held frame after the plan: that frame sets the cursor', plan([], 9, GONE), held(10), false, {}, [], 9],
      ['with a replay key (html tiles): the last event of each key', plan([event('a', 1), event('b', 2), event('a', 3)], 3), [], true, undefined, ['b2', 'a3'], 3],
      ['an empty plan: nothing, live from its head', plan([], 0), [], false, undefined, [], 0]
    ]
  for (const [what, p, h, lastOnly, reset, events, liveAfterSeq] of cases) {
    const handover = planHandover(p, h, lastOnly ? (e) => e.topic : undefined)
    assert.deepEqual(handover.reset === undefined ? undefined : { ...(handover.reset.id === undefined ? {} : { id: handover.reset.id }) }, reset, what)
    if (reset !== undefined) assert.deepEqual([handover.reset?.topics, handover.reset?.reason], [GONE.topics, GONE.reason], what)
    assert.deepEqual(ids(handover.events), events, what)
    assert.equal(handover.liveAfterSeq, liveAfterSeq, what)
  }
})

test('lastOfEach keeps bus order, and events with one key count as one', () => {
  const byTopic = (e: TickerEvent): string => e.topic
  assert.deepEqual(ids(lastOfEach([event('a', 1), event('b', 2), event('c', 3), event('b', 4), event('a', 5)], byTopic)), ['c3', 'b4', 'a5'])
  assert.deepEqual(lastOfEach([], byTopic), [])
  const tile = (e: TickerEvent): string => e.topic.replace(/\.status$/, '')
  assert.deepEqual(ids(lastOfEach([event('f', 1), event('f.status', 2), event('g', 3)], tile)), ['f.status2', 'g3'])
})
