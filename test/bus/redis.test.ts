/**
 * The Redis backend: the same contract suite as the memory backend, each bus on keys of its own
 * (a fresh history, so a new epoch), against a real redis-server; then what only Redis does.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { Redis } from 'ioredis'
import { RedisBus } from '../../src/bus/redis-bus.ts'
import type { TopicRules } from '../../src/bus/topics.ts'
import type { TickerEvent } from '../../src/bus/index.ts'
import { CuttableProxy, waitUntil } from '../helper.ts'
import { redisMissing, startRedis, type RedisServer } from '../redis.ts'
import { busContract } from './contract.ts'

const missing = redisMissing()
let redis: RedisServer | undefined
const RULES: TopicRules = {
  declared: { a: { capacity: 3, maxAgeSeconds: 3600 }, b: { capacity: 100, maxAgeSeconds: 3600 } },
  allowUndeclared: false,
  defaults: { capacity: 5, maxAgeSeconds: 3600 },
  maxTopics: 10
}

const buses: RedisBus[] = []
async function bus (rules: TopicRules, keyPrefix = randomUUID(), now?: () => number): Promise<RedisBus> {
  const made = await RedisBus.connect({ ...rules, url: (redis as RedisServer).url, keyPrefix, ...(now === undefined ? {} : { now }) })
  buses.push(made)
  return made
}

if (missing !== undefined) {
  test('redis backend', { skip: missing }, () => {})
} else {
  before(async () => { redis = await startRedis() })
  after(async () => {
    await Promise.all(buses.map(async (b) => b.close()))
    await redis?.dispose()
  })

  busContract('redis', async (rules) => bus(rules))

  test('redis: two instances on one Redis are one bus: one order, each event to each instance once', async () => {
    const prefix = randomUUID()
    const [one, two] = [await bus(RULES, prefix), await bus(RULES, prefix)]
    assert.equal(one.epoch, two.epoch, 'the epoch lives in Redis')
    const seen: Array<[string, TickerEvent[]]> = [['one', []], ['two', []]]
    one.subscribe((e) => seen[0]?.[1].push(e))
    two.subscribe((e) => seen[1]?.[1].push(e))
    const published: string[] = []
    for (let i = 0; i < 20; i++) published.push((await (i % 2 === 0 ? one : two).publish(i % 3 === 0 ? 'a' : 'b', i)).id)
    for (const [name, events] of seen) {
      await waitUntil(() => events.length >= 20, 5000, `${name} to get every event`)
      assert.deepEqual(events.map((e) => e.id), published, name)
    }
    // A client that resumes on the other instance gets exactly what followed.
    const plan = await two.replay(['a', 'b'], published[9])
    assert.deepEqual(plan.events.map((e) => e.id), published.slice(10))
  })

  test('redis: a restarted instance keeps the epoch; a Redis that lost its data gets a new one, and resumes reset', async () => {
    const prefix = randomUUID()
    const first = await bus(RULES, prefix)
    const before = await first.publish('b', 'before')
    await first.close()
    const second = await bus(RULES, prefix)
    assert.equal(second.epoch, first.epoch)
    assert.deepEqual((await second.replay(['b'], before.id)).events, [])

    const other = await bus(RULES, prefix)
    await (redis as RedisServer).restart() // empty again
    await waitUntil(async () => second.publish('b', 'after').then((e) => e, () => undefined), 10_000, 'Redis back')
    await waitUntil(() => other.epoch !== first.epoch && other.state === 'up', 5000, 'the other instance to be back, in the new epoch')
    assert.notEqual(second.epoch, first.epoch)
    const plan = await other.replay(['b'], before.id)
    assert.deepEqual(plan.reset, { topics: ['b'], reason: 'other-epoch' })
    assert.deepEqual(plan.events.map((e) => e.data), ['after'])
  })

  test('redis: events older than maxAgeSeconds count as evicted', async () => {
    let now = 1_000_000
    const rules: TopicRules = { ...RULES, declared: { a: { capacity: 10, maxAgeSeconds: 60 } } }
    const aged = await bus(rules, randomUUID(), () => now)
    const old = await aged.publish('a', 'old')
    now += 1000
    await aged.publish('a', 'missed')
    now += 60_001
    assert.equal(await aged.latest('a'), undefined)
    assert.deepEqual((await aged.replay(['a'], old.id)).reset, { topics: ['a'], reason: 'evicted' })
    await aged.publish('a', 'new') // the publish trims them for good
    assert.deepEqual((await aged.topics()).map((t) => t.buffered), [1])
  })

  test('redis: unreachable at start and lost while running: 503 at once, then serving again when it is back', async (t) => {
    const own = await startRedis(t)
    await own.stop()
    const lines: string[] = []
    const log = { info: (_o: object, m: string) => lines.push(m), warn: (_o: object, m: string) => lines.push(m), error: (_o: object, m: string) => lines.push(m) }
    const down = RedisBus.start({ ...RULES, url: own.url, keyPrefix: randomUUID(), log })
    buses.push(down)
    assert.equal(down.state, 'connecting')
    await assert.rejects(down.publish('b', 1), { code: 'TICKER_ERR_BUS_UNAVAILABLE', statusCode: 503 })
    await assert.rejects(down.replay(['b'], undefined), { code: 'TICKER_ERR_BUS_UNAVAILABLE' })
    await own.start()
    await down.ready()
    const first = await down.publish('b', 'first')
    assert.equal(down.state, 'up')

    const seen: string[] = []
    down.subscribe((e) => seen.push(String(e.data)))
    await own.stop()
    await waitUntil(() => down.state === 'down', 10_000, 'the loss to be noticed')
    await assert.rejects(down.publish('b', 'lost'), { code: 'TICKER_ERR_BUS_UNAVAILABLE' })
    await own.start() // empty: its history is gone
    await waitUntil(() => down.state === 'up', 10_000, 'Redis to be back')
    await down.publish('b', 'back')
    assert.deepEqual(seen, ['back'], 'the reader goes on after the outage')
    assert.deepEqual((await down.replay(['b'], first.id)).reset?.reason, 'other-epoch', 'history was lost, so resuming resets')
    assert.deepEqual(lines.filter((l) => !l.startsWith('Redis has a new epoch')), [
      'Redis reached',
      'Redis is unreachable; publishing and history answer 503, open streams stay open, until it is back',
      'Redis is back'
    ], 'each state change logged once')
  })

  test('redis: one instance at a time holds a producer\'s lease, and an earlier holder\'s token is refused', async () => {
    const prefix = randomUUID()
    const [one, two] = [await bus(RULES, prefix), await bus(RULES, prefix)]
    const first = one.coordinator({ instance: 'one', producers: ['clock'], ttlMs: 300 })
    const lease = await waitUntil(() => first.leaseFor('clock'), 5000, 'the first lease')
    const second = two.coordinator({ instance: 'two', producers: ['clock'], ttlMs: 300 })
    await waitUntil(() => second.runnerOf('clock') === 'one', 5000, 'the second instance to see who runs it')
    assert.equal(second.leaseFor('clock'), undefined, 'only one holder')
    await one.publish('b', 'under the lease', lease)

    await first.stop() // gives the lease up
    const taken = await waitUntil(() => second.leaseFor('clock'), 5000, 'the second instance to take over')
    assert.ok(taken.token > lease.token)
    await assert.rejects(one.publish('b', 'too late', lease), { code: 'TICKER_ERR_FENCED' })
    await two.publish('b', 'the new holder', taken)
    await second.stop()
    assert.deepEqual((await two.history('b', undefined, 10)).events.map((e) => e.data), ['under the lease', 'the new holder'])
  })

  test('redis: an instance that reads the shared stream too late to get all of it says so, never skips silently', async (t) => {
    const prefix = randomUUID()
    const proxy = await CuttableProxy.start(t, (redis as RedisServer).port)
    const late = await RedisBus.connect({ ...RULES, url: proxy.url.replace('http:', 'redis:'), keyPrefix: prefix })
    buses.push(late)
    const publisher = await bus(RULES, prefix)
    const seen: number[] = []
    let gaps = 0
    late.subscribe((e) => seen.push(e.seq), () => { gaps++ })
    await publisher.publish('b', 'seen')
    await waitUntil(() => seen.length === 1, 5000, 'the first event')

    proxy.block() // the late instance cannot read for a while
    const small = await RedisBus.connect({ ...RULES, url: (redis as RedisServer).url, keyPrefix: prefix, streamCapacity: 5 })
    buses.push(small)
    for (let i = 0; i < 300; i++) await small.publish('b', i) // the shared stream keeps about 100 of them
    proxy.unblock()
    await waitUntil(() => gaps > 0, 15_000, 'the gap to be noticed')
    assert.equal(gaps, 1)
    assert.ok(seen.length < 301, 'it did miss events')
  })

  test('redis: a lost seq counter: the next publish takes a seq past every event, nothing fails', async () => {
    const prefix = randomUUID()
    const one = await bus(RULES, prefix)
    const before = await one.publish('b', 1)
    await one.publish('b', 2)
    const raw = new Redis((redis as RedisServer).url)
    await raw.del(`{${prefix}}:seq`)
    raw.disconnect()
    const after = await one.publish('b', 3)
    assert.ok(after.seq > before.seq + 1)
    assert.deepEqual((await one.history('b', before.id, 10)).events.map((e) => e.data), [2, 3])
  })

  test('redis: restored from an older snapshot under running instances: one new epoch, streams end, resumes reset', async (t) => {
    const own = await startRedis(t) // a server of its own: it keeps a snapshot on disk
    const prefix = randomUUID()
    const connect = async (): Promise<RedisBus> => {
      const made = await RedisBus.connect({ ...RULES, url: own.url, keyPrefix: prefix })
      buses.push(made)
      return made
    }
    const [one, two] = [await connect(), await connect()]
    const gaps = { one: 0, two: 0 }
    const seen: string[] = []
    one.subscribe((e) => seen.push(String(e.data)), () => { gaps.one++ })
    two.subscribe(() => {}, () => { gaps.two++ })
    const ids: string[] = []
    for (let i = 1; i <= 3; i++) ids.push((await one.publish('b', i)).id)
    const raw = new Redis(own.url)
    await raw.save() // the snapshot a restore brings back: seq 3
    raw.disconnect()
    for (let i = 4; i <= 5; i++) ids.push((await one.publish('b', i)).id)
    await waitUntil(() => seen.length === 5, 5000, 'every event read')
    const epoch = one.epoch

    await own.restart() // loads the snapshot: seqs 4 and 5 are gone, and would be handed out again
    await waitUntil(() => one.state === 'up' && two.state === 'up' && one.epoch !== epoch && two.epoch === one.epoch, 15_000,
      'both instances back, in one new epoch')
    assert.deepEqual(gaps, { one: 1, two: 1 }, 'each ends the streams it relayed')
    assert.deepEqual((await two.replay(['b'], ids[4])).reset?.reason, 'other-epoch')
    assert.deepEqual((await two.replay(['b'], ids[1])).reset?.reason, 'other-epoch', 'even an ID the snapshot still holds')
    seen.length = 0
    const next = await two.publish('b', 'after')
    assert.ok(next.seq > 3)
    await waitUntil(() => seen.length === 1, 5000, 'the next event, once')
    assert.deepEqual(seen, ['after'], 'nothing from before the rollback is relayed again')
  })

  test('redis: a Redis that stops answering is noticed by the reader alone, without a publish, and the bus comes back', async (t) => {
    const own = await startRedis(t)
    const idle = await RedisBus.connect({ ...RULES, url: own.url, keyPrefix: randomUUID() })
    buses.push(idle)
    own.freeze()
    t.after(() => own.thaw())
    await waitUntil(() => idle.state === 'down', 10_000, 'the silence to be noticed')
    own.thaw()
    await waitUntil(() => idle.state === 'up', 15_000, 'the bus to come back')
    await idle.publish('b', 'after')
  })
  test('redis: a Redis at its maxmemory refuses publishes and reads with a clear 503, loses nothing, and the bus stays up', async (t) => {
    const own = await startRedis(t)
    const full = await RedisBus.connect({ ...RULES, url: own.url, keyPrefix: randomUUID() })
    buses.push(full)
    const first = await full.publish('b', 'before')
    const raw = new Redis(own.url)
    t.after(() => raw.disconnect())
    await raw.config('SET', 'maxmemory', '1') // below what it uses: every write is refused (noeviction)
    await assert.rejects(full.publish('b', 'x'.repeat(1000)), (err: Error & { code?: string, statusCode?: number }) => {
      assert.equal(err.code, 'TICKER_ERR_BUS_FULL')
      assert.equal(err.statusCode, 503)
      assert.match(err.message, /maxmemory/)
      return true
    })
    assert.equal(full.state, 'up', 'a full Redis is not a lost one')
    // Redis refuses to queue a MULTI when full, so reads are refused as clearly.
    await assert.rejects(full.history('b', undefined, 10), { code: 'TICKER_ERR_BUS_FULL' })
    await raw.config('SET', 'maxmemory', '0')
    assert.deepEqual((await full.history('b', undefined, 10)).events.map((e) => e.id), [first.id], 'nothing was lost')
    const next = await full.publish('b', 'after')
    assert.equal(next.seq, first.seq + 1, 'the refused publish took no ID')
  })
  test('redis: replays share one object per event with live delivery and each other, and an instance holds at most its topics\' capacities', async () => {
    const prefix = randomUUID()
    const rules: TopicRules = { ...RULES, declared: { big: { capacity: 12_000, maxAgeSeconds: 3600 }, small: { capacity: 20, maxAgeSeconds: 3600 } } }
    const reader = await bus(rules, prefix)
    const writer = await bus(rules, prefix)
    let last = ''
    reader.subscribe((e) => { last = e.id })
    for (let i = 0; i < 12_000; i += 500) {
      const sent = await Promise.all(Array.from({ length: 500 }, async (_, j) => writer.publish(j % 10 === 0 ? 'small' : 'big', i + j)))
      if (i + 500 >= 12_000) await waitUntil(() => last === sent.at(-1)?.id, 10_000, 'the reader to get every event')
    }
    const from = `${reader.epoch}-0`
    const [one, two] = [await reader.replay(['big'], from), await reader.replay(['big'], from)]
    assert.equal(one.events.length, 10_800)
    assert.ok(one.events.every((e, i) => e === two.events[i]), 'the same objects, not a copy per resume')
    assert.equal(reader.heldEvents, 10_800 + 20, 'what the topics keep, not every event seen')
  })

  test('redis: a flush under a running instance: it reads the new history from its start, missing nothing, even when a read adopted it first', async (t) => {
    const own = await startRedis(t)
    const rules: TopicRules = { ...RULES }
    const a = await RedisBus.connect({ ...rules, url: own.url, keyPrefix: 'p' })
    const b = await RedisBus.connect({ ...rules, url: own.url, keyPrefix: 'p' })
    buses.push(a, b)
    const seen: string[] = []
    a.subscribe((e) => seen.push(String(e.data)), () => seen.push('gap'))
    for (let i = 0; i < 3; i++) await a.publish('b', `old-${i}`)
    await waitUntil(() => seen.length === 3, 5000, 'the old events')
    const raw = new Redis(own.url)
    t.after(() => raw.disconnect())
    await raw.flushall()
    const published = [b.publish('b', 'new-1')]
    await waitUntil(async () => (await raw.get('{p}:epoch')) !== null, 5000, 'the new epoch')
    await a.history('b', undefined, 10) // a read adopts the new epoch while the reader waits on the old position
    for (let i = 2; i <= 6; i++) published.push(b.publish('b', `new-${i}`))
    await Promise.all(published)
    await waitUntil(() => seen.includes('new-6'), 10_000, 'the new events')
    assert.deepEqual(seen, ['old-0', 'old-1', 'old-2', 'gap', 'new-1', 'new-2', 'new-3', 'new-4', 'new-5', 'new-6'])
  })

  test('redis: after Redis went back to an older snapshot, a new lease holder\'s token is above the last one, and that holder is fenced', async (t) => {
    const own = await startRedis(t)
    const rules: TopicRules = { ...RULES }
    const a = await RedisBus.connect({ ...rules, url: own.url, keyPrefix: 'p' })
    const b = await RedisBus.connect({ ...rules, url: own.url, keyPrefix: 'p' })
    buses.push(a, b)
    const earlier = a.coordinator({ instance: 'earlier', producers: ['feed'], ttlMs: 1000 })
    await earlier.ready()
    await earlier.stop()
    const raw = new Redis(own.url)
    t.after(() => raw.disconnect())
    await raw.save() // the snapshot Redis will come back from
    const first = a.coordinator({ instance: 'first', producers: ['feed'], ttlMs: 1000 })
    await first.ready()
    const lease = first.leaseFor('feed')
    assert.ok(lease)
    // `first` pauses (its run in flight keeps this lease) and stops renewing; Redis crashes.
    await first.stop()
    await own.stop()
    await own.start() // from the snapshot: the fence counter is back where it was before `first`
    const next = b.coordinator({ instance: 'next', producers: ['feed'], ttlMs: 1000 })
    t.after(() => next.stop())
    await waitUntil(() => next.leaseFor('feed') !== undefined, 10_000, 'the next holder to take the lease')
    assert.ok((next.leaseFor('feed')?.token ?? 0) > lease.token, 'a later grant has a larger token')
    await waitUntil(() => a.state === 'up', 10_000, 'the first instance to be back')
    await assert.rejects(a.publish('b', 'late', lease), { code: 'TICKER_ERR_FENCED' })
    assert.equal(await first.saveState(lease, { stale: true }), false)
  })

  test('redis: a topic created by another instance is known here once its first event arrives', async () => {
    const prefix = randomUUID()
    const rules: TopicRules = { ...RULES, allowUndeclared: true }
    const here = await bus(rules, prefix)
    const there = await bus(rules, prefix)
    let got = 0
    here.subscribe((e) => { if (e.topic === 'made.there') got++ })
    await there.publish('made.there', 1)
    await waitUntil(() => got === 1, 5000, 'the event')
    assert.equal(here.hasTopic('made.there'), true)
  })
}
