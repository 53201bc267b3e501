import { test } from 'node:test'
import assert from 'node:assert/strict'
import { planReplay, type ReplayInput } from '../../src/bus/replay.ts'
import { RingBuffer } from '../../src/bus/ring-buffer.ts'
import type { TickerEvent } from '../../src/bus/types.ts'

const EPOCH = 'ep1'

/** Buffers a (capacity 2), b and c (capacity 10) filled with the given seqs. */
function world (events: Array<[topic: string, seq: number]>): Pick<ReplayInput, 'buffer' | 'epoch' | 'headSeq'> {
  const rings = new Map([['a', new RingBuffer(2, 1e9)], ['b', new RingBuffer(10, 1e9)], ['c', new RingBuffer(10, 1e9)]])
  for (const [topic, seq] of events) {
    const event: TickerEvent = { id: `${EPOCH}-${seq}`, seq, topic, time: 0, data: null, json: 'null' }
    rings.get(topic)?.push(event, 0)
  }
  return { epoch: EPOCH, headSeq: Math.max(0, ...events.map(([, s]) => s)), buffer: (t) => rings.get(t) }
}

const ids = (events: readonly TickerEvent[]): string[] => events.map((e) => `${e.topic}${e.seq}`)

const history = world([['a', 1], ['b', 2], ['a', 3], ['c', 4], ['b', 5], ['a', 6], ['c', 7]])

test('table: what each kind of client gets', () => {
  const cases: Array<[what: string, lastId: string | undefined, topics: string[], reset: string[] | undefined, events: string[]]> = [
    ['fresh client: latest of each topic, in bus order', undefined, ['a', 'b', 'c'], undefined, ['b5', 'a6', 'c7']],
    ['resume with history intact', 'ep1-3', ['b', 'c'], undefined, ['c4', 'b5', 'c7']],
    ['resume at the head: nothing', 'ep1-7', ['a', 'b', 'c'], undefined, []],
    ['resume after a1 was evicted: a is still whole after 2', 'ep1-2', ['a', 'b', 'c'], undefined, ['a3', 'c4', 'b5', 'a6', 'c7']],
    ['resume before an eviction of a: reset a, latest a, rest of b and c', 'ep1-0', ['a', 'b', 'c'], ['a'], ['b2', 'c4', 'b5', 'a6', 'c7']],
    ['eviction on a topic the client does not follow does not matter', 'ep1-0', ['b', 'c'], undefined, ['b2', 'c4', 'b5', 'c7']],
    ['ID from another life: reset all, latest of each', 'zz9-3', ['a', 'b'], ['a', 'b'], ['b5', 'a6']],
    ['ID from the future: reset all', 'ep1-99', ['c'], ['c'], ['c7']],
    ['malformed ID: reset all', 'garbage', ['b'], ['b'], ['b5']],
    ['a topic with no events yet contributes nothing', undefined, ['d'], undefined, []]
  ]
  for (const [what, lastId, topics, reset, events] of cases) {
    const plan = planReplay({ ...history, topics, lastId })
    assert.deepEqual(plan.reset?.topics, reset, what)
    assert.deepEqual(ids(plan.events), events, what)
    assert.equal(plan.headSeq, 7, what)
  }
})

test('reset says why', () => {
  assert.equal(planReplay({ ...history, topics: ['a'], lastId: 'nope' }).reset?.reason, 'malformed-id')
  assert.equal(planReplay({ ...history, topics: ['a'], lastId: 'old-1' }).reset?.reason, 'other-epoch')
  assert.equal(planReplay({ ...history, topics: ['a'], lastId: 'ep1-8' }).reset?.reason, 'unknown-id')
  assert.equal(planReplay({ ...history, topics: ['a'], lastId: 'ep1-0' }).reset?.reason, 'evicted')
})
