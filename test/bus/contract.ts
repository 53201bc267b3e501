/**
 * The Bus contract: every backend runs this same suite (memory.test.ts, and later redis).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { parseId, type Bus, type TickerEvent } from '../../src/bus/index.ts'
import type { TopicRules } from '../../src/bus/topics.ts'

export type MakeBus = (rules: TopicRules) => Promise<Bus>

const RULES: TopicRules = {
  declared: { a: { capacity: 3, maxAgeSeconds: 3600 }, b: { capacity: 100, maxAgeSeconds: 3600 }, c: { capacity: 100, maxAgeSeconds: 3600 } },
  allowUndeclared: false,
  defaults: { capacity: 5, maxAgeSeconds: 3600 },
  maxTopics: 5
}

const tags = (events: readonly TickerEvent[]): string[] => events.map((e) => `${e.topic}:${String(e.data)}`)

export function busContract (backend: string, make: MakeBus): void {
  async function fresh (rules: TopicRules = RULES): Promise<Bus> {
    const bus = await make(rules)
    test.after?.(() => bus.close())
    return bus
  }

  test(`${backend}: IDs carry the epoch and one order spans all topics`, async () => {
    const bus = await fresh()
    const e1 = await bus.publish('a', 1)
    const e2 = await bus.publish('b', 2)
    const e3 = await bus.publish('a', 3)
    for (const e of [e1, e2, e3]) assert.equal(parseId(e.id)?.epoch, bus.epoch)
    assert.ok(e1.seq < e2.seq && e2.seq < e3.seq)
    assert.equal(e2.topic, 'b')
    assert.equal(e2.json, '2')
  })

  test(`${backend}: a new bus (a restart) has a new epoch`, async () => {
    const [one, two] = [await fresh(), await fresh()]
    assert.notEqual(one.epoch, two.epoch)
  })

  test(`${backend}: listeners get live events in order until they unsubscribe`, async () => {
    const bus = await fresh()
    const seen: TickerEvent[] = []
    const stop = bus.subscribe((e) => seen.push(e))
    await bus.publish('a', 1)
    await bus.publish('c', 2)
    stop()
    await bus.publish('a', 3)
    assert.deepEqual(tags(seen), ['a:1', 'c:2'])
  })

  test(`${backend}: the payload is a copy, fixed at publish time`, async () => {
    const bus = await fresh()
    const payload = { n: 1, nested: { s: 'x' } }
    const event = await bus.publish('a', payload)
    payload.nested.s = 'changed'
    assert.deepEqual(event.data, { n: 1, nested: { s: 'x' } })
    assert.deepEqual((await bus.latest('a'))?.data, { n: 1, nested: { s: 'x' } })
  })

  test(`${backend}: data that is not JSON is refused with a clear error`, async () => {
    const bus = await fresh()
    const circular: Record<string, unknown> = {}
    circular.self = circular
    await assert.rejects(bus.publish('a', undefined), { code: 'TICKER_ERR_DATA_NOT_JSON' })
    await assert.rejects(bus.publish('a', circular), { code: 'TICKER_ERR_DATA_NOT_JSON' })
    await assert.rejects(bus.publish('a', 10n), { code: 'TICKER_ERR_DATA_NOT_JSON' })
    assert.equal(await bus.latest('a'), undefined)
  })

  test(`${backend}: replay: fresh, resume, eviction, foreign IDs`, async () => {
    const bus = await fresh()
    const before = await bus.publish('c', 0)
    const first = await bus.publish('a', 1)
    await bus.publish('b', 2)
    const mid = await bus.publish('a', 3)
    await bus.publish('b', 4)
    await bus.publish('a', 5)

    assert.deepEqual(tags((await bus.replay(['a', 'b'], undefined)).events), ['b:4', 'a:5'])
    const resumed = await bus.replay(['a', 'b'], mid.id)
    assert.equal(resumed.reset, undefined)
    assert.deepEqual(tags(resumed.events), ['b:4', 'a:5'])

    await bus.publish('a', 6) // a holds 3: event 1 is gone
    assert.equal((await bus.replay(['a', 'b'], first.id)).reset, undefined, 'losing the event the client has is no loss')
    const evicted = await bus.replay(['a', 'b'], before.id)
    assert.deepEqual(evicted.reset, { topics: ['a'], reason: 'evicted' })
    assert.deepEqual(tags(evicted.events), ['b:2', 'b:4', 'a:6'])

    const foreign = await bus.replay(['a', 'b'], 'x0-1')
    assert.deepEqual(foreign.reset, { topics: ['a', 'b'], reason: 'other-epoch' })
    assert.deepEqual(tags(foreign.events), ['b:4', 'a:6'])
  })

  test(`${backend}: history pages forward and says when it cannot`, async () => {
    const bus = await fresh()
    const ids: string[] = []
    for (let i = 1; i <= 6; i++) ids.push((await bus.publish('b', i)).id)
    const page1 = await bus.history('b', ids[0], 2)
    assert.deepEqual(tags(page1.events), ['b:2', 'b:3'])
    assert.equal(page1.hasMore, true)
    const page2 = await bus.history('b', page1.events.at(-1)?.id, 10)
    assert.deepEqual(tags(page2.events), ['b:4', 'b:5', 'b:6'])
    assert.equal(page2.hasMore, false)
    assert.deepEqual(tags((await bus.history('b', undefined, 2)).events), ['b:5', 'b:6'])
    const gone = await bus.history('b', 'nonsense', 2)
    assert.equal(gone.reset, true)
    assert.deepEqual(tags(gone.events), ['b:5', 'b:6'])
    assert.deepEqual((await bus.history('c', undefined, 5)).events, [])
  })

  test(`${backend}: topics must be declared unless creation is allowed, and are bounded`, async () => {
    const strict = await fresh()
    await assert.rejects(strict.publish('new', 1), { code: 'TICKER_ERR_TOPIC_UNKNOWN', statusCode: 404 })
    assert.equal(strict.hasTopic('new'), false)

    const open = await fresh({ ...RULES, allowUndeclared: true })
    await open.publish('new.one', 1)
    assert.equal(open.hasTopic('new.one'), true)
    await assert.rejects(open.publish('Bad Name', 1), { code: 'TICKER_ERR_TOPIC_NAME' })
    await assert.rejects(open.publish('reset', 1), { code: 'TICKER_ERR_TOPIC_NAME' })
    await open.publish('new.two', 1) // 5 topics: the limit
    await assert.rejects(open.publish('new.three', 1), { code: 'TICKER_ERR_TOPIC_LIMIT' })
    const info = await open.topics()
    assert.deepEqual(info.map((t) => [t.name, t.declared, t.buffered]),
      [['a', true, 0], ['b', true, 0], ['c', true, 0], ['new.one', false, 1], ['new.two', false, 1]])
  })

  test(`${backend}: 10,000 publishes keep each buffer at its capacity`, async () => {
    const bus = await fresh()
    const payload = { text: 'x'.repeat(200) }
    let last: TickerEvent | undefined
    for (let i = 0; i < 10_000; i++) last = await bus.publish(i % 2 === 0 ? 'a' : 'b', payload)
    const info = await bus.topics()
    assert.deepEqual(info.map((t) => t.buffered), [3, 100, 0])
    assert.equal(info.find((t) => t.name === 'b')?.lastId, last?.id)
  })
}
