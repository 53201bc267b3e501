/**
 * Events published within one turn of the event loop are written as one batch per group of
 * streams. Order, exactly-once and the replay hand-over must survive that.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { setImmediate as nextTurn } from 'node:timers/promises'
import { Recorder, startApp } from '../helper.ts'

const TOPICS = { topics: { a: {}, b: {}, c: {} } }

test('a burst published without yielding arrives complete and in order, per stream', async (t) => {
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

test('streams that go live in the middle of bursts get every later event exactly once', async (t) => {
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
