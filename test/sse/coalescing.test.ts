/**
 * Events published within one turn of the event loop are written as one batch per group of
 * streams. Order, exactly-once and the replay hand-over must survive that.
 */
import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { setImmediate as nextTurn } from 'node:timers/promises'
import { WRITES_PER_TURN } from '../../src/sse/flusher.ts'
import { Recorder, StreamTap, waitUntil, forEachWriter } from '../helper.ts'

const TOPICS = { topics: { a: {}, b: {}, c: {} } }

/** Opens `count` streams of `url`, 100 at a time. */
async function openTaps (t: TestContext, url: string, count: number): Promise<StreamTap[]> {
  const taps: StreamTap[] = []
  for (let i = 0; i < count; i += 100) {
    taps.push(...await Promise.all(Array.from({ length: Math.min(100, count - i) }, async () => StreamTap.open(t, url))))
  }
  return taps
}

forEachWriter((writer, startApp) => {
  test(`a burst published without yielding arrives complete and in order, per stream [${writer}]`, async (t) => {
    const { url, app } = await startApp(t, TOPICS)
    const multi = new Recorder(t, `${url}/stream?topics=a,b,c`, ['a', 'b', 'c'])
    const single = new Recorder(t, `${url}/topics/b/stream`, ['a', 'b', 'c'])
    await Promise.all([multi.opened(), single.opened()])
    const published: Array<{ id: string, topic: string }> = []
    const big = 'x'.repeat(2000) // 300 × 2 KB also crosses the early-flush threshold
    for (let i = 0; i < 300; i++) {
      const topic = ['a', 'b', 'c'][i % 3] as string
      const event = await app.ticker.bus.publish(topic, { i, big })
      published.push({ id: event.id, topic })
    }
    assert.deepEqual((await multi.count(300)).map((e) => e.id), published.map((p) => p.id))
    assert.deepEqual((await single.count(100)).map((e) => e.id), published.filter((p) => p.topic === 'b').map((p) => p.id))
  })

  test(`streams that go live in the middle of bursts get every later event exactly once [${writer}]`, async (t) => {
    const { url, app } = await startApp(t, TOPICS)
    const ids: string[] = []
    const publishBurst = async (n: number): Promise<void> => {
      for (let i = 0; i < n; i++) ids.push((await app.ticker.bus.publish(['a', 'b', 'c'][ids.length % 3] as string, ids.length)).id)
    }
    await publishBurst(30)
    const from = ids[14] as string
    const clients: Recorder[] = []
    for (let turn = 0; turn < 30; turn++) {
      await publishBurst(7)
      if (turn % 3 === 0) clients.push(new Recorder(t, `${url}/stream?topics=a,b,c&lastEventId=${from}`, ['a', 'b', 'c']))
      await nextTurn()
    }
    const expected = ids.slice(15)
    for (const client of clients) {
      const got = await client.count(expected.length)
      assert.deepEqual(got.map((e) => e.id), expected)
    }
    await publishBurst(1) // anything sent twice would now show before this one
    for (const client of clients) assert.deepEqual((await client.count(expected.length + 1)).map((e) => e.id), [...expected, ids.at(-1)])
  })

  test(`flushes and heartbeats to more streams than one loop turn writes take turns; events and streams that come meanwhile lose nothing [${writer}]`, async (t) => {
    const { url, app } = await startApp(t, { ...TOPICS, sse: { maxConnectionsPerIp: 2000, heartbeatMs: 200 } })
    const hub = app.ticker.hub
    const streams = WRITES_PER_TURN * 2 + 100
    const taps = await openTaps(t, `${url}/topics/a/stream`, streams)
    await waitUntil(() => hub.size === streams, 5000, 'every stream registered')
    const before = hub.stats().eventsDelivered
    const ids = [(await app.ticker.bus.publish('a', 0)).id]
    for (let turn = 0; turn < 100 && hub.stats().eventsDelivered === before; turn++) await nextTurn()
    const firstTurn = hub.stats().eventsDelivered - before
    assert.ok(firstTurn > 0 && firstTurn < streams, `first turn wrote ${firstTurn} of ${streams} streams`)

    // Mid-flush: more events, and streams that resume from the first event or start fresh.
    for (let i = 1; i <= 5; i++) ids.push((await app.ticker.bus.publish('a', i)).id)
    const resumed = await Promise.all([1, 2, 3].map(async () => StreamTap.open(t, `${url}/topics/a/stream?lastEventId=${ids[0]}`)))
    const fresh = await StreamTap.open(t, `${url}/topics/a/stream`)
    ids.push((await app.ticker.bus.publish('a', 6)).id)

    const expected: Array<[StreamTap, string[]]> = [
      ...taps.map((tap): [StreamTap, string[]] => [tap, ids]),
      ...resumed.map((tap): [StreamTap, string[]] => [tap, ids.slice(1)]),
      [fresh, ids.slice(-2)] // a fresh stream starts with the latest event
    ]
    for (const [tap, want] of expected) assert.deepEqual(await tap.count(want.length), want)
    const last = (await app.ticker.bus.publish('a', 7)).id // anything sent twice would now show before this one
    for (const [tap, want] of expected) assert.deepEqual(await tap.count(want.length + 1), [...want, last])
    // The heartbeat, written in slices too, reaches every stream.
    await waitUntil(() => taps.every((tap) => tap.comments > 0), 5000, 'a heartbeat on every stream')
  })

  /** Holds the event loop for `ms`, as a GC pause or a preempted process would. */
  function stall (ms: number): void {
    const until = performance.now() + ms
    while (performance.now() < until) { /* busy */ }
  }

  test(`events that pile up while a flush writes wait as long as it took, and what comes meanwhile joins them [${writer}]`, async (t) => {
    const { url, app } = await startApp(t, { ...TOPICS, sse: { maxConnectionsPerIp: 2000, flushIntervalMs: 0 } })
    const { hub, bus } = app.ticker
    const streams = WRITES_PER_TURN + 100 // each flush takes two turns of the loop; events come in between
    const taps = await openTaps(t, `${url}/topics/a/stream`, streams)
    await waitUntil(() => hub.size === streams, 5000, 'every stream registered')
    const before = hub.stats().writes
    const events: Array<Promise<{ id: string }>> = []
    const publish = (n: string): void => { events.push(bus.publish('a', n)) }

    publish('A') // flushed at once: half the streams now, the rest in the next turn
    setImmediate(() => {
      publish('B') // comes while A is being written,
      stall(100) // and A's flush is slow: B waits as long again after it,
      setImmediate(() => {
        publish('C') // and C and D, which come meanwhile, join it
        setImmediate(() => { publish('D') })
      })
    })
    await waitUntil(() => events.length === 4, 5000, 'four events published')
    const ids = (await Promise.all(events)).map((e) => e.id)
    for (const tap of taps) assert.deepEqual(await tap.count(4), ids)
    // One write per stream for A, one for B, C and D together (with no pause: one each).
    assert.equal((hub.stats().writes - before) / streams, 2)
  })
})
