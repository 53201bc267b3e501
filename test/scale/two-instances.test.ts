/**
 * Two Ticker instances on one Redis behave as one service: a client on A gets what is published
 * through B, live and on resume, and a client that loses A resumes on B with nothing lost or
 * doubled, on a multi-topic stream.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { CuttableProxy, Recorder, publish, startApp } from '../helper.ts'
import { redisMissing, startRedis } from '../redis.ts'

const missing = redisMissing()
const TOPICS = { a: {}, b: {}, c: {} }

test('two instances on one Redis: live across instances, and a resume on the other instance loses nothing', { skip: missing }, async (t) => {
  const redis = await startRedis(t)
  const shared = { topics: TOPICS, bus: { backend: 'redis', redis: { url: redis.url, keyPrefix: randomUUID() } } }
  const [one, two] = [await startApp(t, shared), await startApp(t, shared)]
  assert.equal(one.app.ticker.bus.epoch, two.app.ticker.bus.epoch)
  const proxy = await CuttableProxy.start(t, one.port)
  const client = new Recorder(t, `${proxy.url}/stream?topics=a,b,c`, ['a', 'b', 'c'])
  await client.opened()

  const published: string[] = []
  const topics = ['a', 'b', 'c']
  for (let i = 0; i < 30; i++) published.push(await publish(i % 2 === 0 ? two.url : one.url, topics[i % 3] as string, i))
  await client.count(30)

  // A goes away; meanwhile events keep coming through B; the client comes back on B.
  proxy.block()
  await one.app.close()
  for (let i = 30; i < 60; i++) published.push(await publish(two.url, topics[i % 3] as string, i))
  proxy.retarget(two.port)
  proxy.unblock()
  await client.opened(2)
  for (let i = 60; i < 70; i++) published.push(await publish(two.url, topics[i % 3] as string, i))
  await client.count(70)
  const last = await publish(two.url, 'a', 'last') // anything doubled would show before it
  await client.count(71)
  assert.deepEqual(client.events.map((e) => e.id), [...published, last])
  assert.equal(client.of('reset').length, 0)
})
