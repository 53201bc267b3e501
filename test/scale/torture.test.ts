/**
 * Replay torture across instances: many clients on multi-topic streams, their connections cut
 * at random and sent back to a random instance, while events are published through both. Each
 * client ends up with every event of its topics exactly once, in order, and no reset.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { CuttableProxy, Recorder, publish, startApp, waitUntil } from '../helper.ts'
import { redisMissing, startRedis } from '../redis.ts'

const TOPICS = ['a', 'b', 'c'] as const
const CLIENTS = 20
const EVENTS = 300

/** A small seeded generator (mulberry32): the same cuts on every run. */
function random (seed: number): () => number {
  let a = seed
  return () => {
    a = (a + 0x6d2b79f5) | 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

test('many clients cut at random between two instances: every event of their topics once, in order', { skip: redisMissing() }, async (t) => {
  const next = random(17)
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T
  const redis = await startRedis(t)
  const shared = { topics: { a: {}, b: {}, c: {} }, sse: { maxConnectionsPerIp: 1000 }, bus: { backend: 'redis', redis: { url: redis.url, keyPrefix: randomUUID() } } }
  const instances = [await startApp(t, shared), await startApp(t, shared)]
  const clients = await Promise.all(Array.from({ length: CLIENTS }, async () => {
    const topics = TOPICS.filter(() => next() < 0.6)
    if (topics.length === 0) topics.push(pick(TOPICS))
    const proxy = await CuttableProxy.start(t, pick(instances).port)
    const recorder = new Recorder(t, `${proxy.url}/stream?topics=${topics.join(',')}`, topics)
    return { topics, proxy, recorder }
  }))
  await Promise.all(clients.map(async (c) => c.recorder.opened()))

  const published: Array<{ id: string, topic: string }> = []
  for (let i = 0; i < EVENTS; i++) {
    const topic = pick(TOPICS)
    published.push({ id: await publish(pick(instances).url, topic, i), topic })
    if (i % 20 === 19) {
      for (let k = 0; k < 5; k++) {
        const client = pick(clients)
        client.proxy.retarget(pick(instances).port)
        client.proxy.cut() // the client reconnects, with Last-Event-ID, to wherever the proxy now points
      }
    }
  }
  for (const topic of TOPICS) published.push({ id: await publish(pick(instances).url, topic, 'last'), topic })

  const resumes = clients.reduce((sum, c) => sum + c.recorder.opens - 1, 0)
  assert.ok(resumes >= 20, `the clients resumed ${resumes} times`)
  for (const [n, client] of clients.entries()) {
    const expected = published.filter((p) => client.topics.includes(p.topic as typeof TOPICS[number])).map((p) => p.id)
    await waitUntil(() => client.recorder.events.length >= expected.length, 20_000, `client ${n} to catch up`)
    assert.deepEqual(client.recorder.events.map((e) => e.id), expected, `client ${n} (${client.topics.join(',')})`)
    assert.equal(client.recorder.of('reset').length, 0)
  }
})
