/**
 * Private topics, limits, metrics and the dashboard behave on the Redis backend as on memory;
 * and an instance that starts after events were published paints its dashboard from Redis's
 * history.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { Redis } from 'ioredis'
import { Recorder, SUB_TOKEN, publish, startApp, waitUntil } from '../helper.ts'
import { sample, scrape } from '../metrics/scrape.ts'
import { redisMissing, startRedis } from '../redis.ts'

test('on Redis: private topics stay private, limits hold, metrics count, and a new instance paints from history', { skip: redisMissing() }, async (t) => {
  const redis = await startRedis(t)
  const config = {
    auth: { subscribeToken: SUB_TOKEN },
    topics: { pub: { title: 'Public' }, vault: { private: true } },
    sse: { maxConnectionsPerIp: 2 },
    dashboards: { main: { title: 'Board', tiles: [{ topic: 'pub', kind: 'generic' }] } },
    bus: { backend: 'redis', redis: { url: redis.url, keyPrefix: randomUUID() } }
  }
  const first = await startApp(t, config)
  await publish(first.url, 'vault', 'classified')
  await publish(first.url, 'pub', { headline: 'painted from history' })

  // Private: not listed, not streamed, not in history, not named in /metrics without the tokens.
  const listed = await (await fetch(`${first.url}/topics`)).json() as { topics: Array<{ name: string }> }
  assert.ok(!listed.topics.some((topic) => topic.name === 'vault'))
  assert.equal((await fetch(`${first.url}/topics/vault/events`)).status, 401)
  assert.equal((await fetch(`${first.url}/topics/vault/stream`)).status, 401)
  const metrics = await scrape(first.url)
  assert.doesNotMatch(metrics, /vault/)
  assert.equal(sample(metrics, 'ticker_bus_events_published_total', { topic: '(private)' }), 1)
  const withToken = await (await fetch(`${first.url}/topics/vault/events`, { headers: { authorization: `Bearer ${SUB_TOKEN}` } })).json() as { events: Array<{ data: unknown }> }
  assert.deepEqual(withToken.events.map((e) => e.data), ['classified'])

  // Limits: the per-client limit of streams.
  const streams = [new Recorder(t, `${first.url}/stream?topics=pub`, ['pub']), new Recorder(t, `${first.url}/stream?topics=pub`, ['pub'])]
  await Promise.all(streams.map(async (s) => s.opened()))
  assert.equal((await fetch(`${first.url}/stream?topics=pub`)).status, 429)

  // A second instance, started later, paints the dashboard from Redis's history.
  const second = await startApp(t, config)
  const page = await (await fetch(`${second.url}/`)).text()
  assert.match(page, /painted from history/)
})

test('on Redis: bus.redis.streamCapacity bounds the stream every instance reads, in Redis itself', { skip: redisMissing() }, async (t) => {
  const redis = await startRedis(t)
  const keyPrefix = randomUUID()
  const { app } = await startApp(t, {
    topics: { n: { capacity: 10 } },
    bus: { backend: 'redis', redis: { url: redis.url, keyPrefix, streamCapacity: 1000 } }
  })
  for (let i = 0; i < 1500; i++) await app.ticker.bus.publish('n', i)
  const raw = new Redis(redis.url)
  t.after(() => raw.disconnect())
  const length = await raw.xlen(`{${keyPrefix}}:events`)
  // Trimmed with MAXLEN ~: whole nodes of the stream go at once, so a little over is allowed.
  assert.ok(length >= 1000 && length < 1200, `the shared stream keeps about 1000 events, not ${length}`)
  assert.equal(await raw.xlen(`{${keyPrefix}}:t:n`), 10, 'a topic keeps its own capacity')
})

test('on Redis: a family topic is created by its first publish and dropped from Redis when idle', { skip: redisMissing() }, async (t) => {
  const redis = await startRedis(t)
  const keyPrefix = randomUUID()
  const { app } = await startApp(t, {
    topicPatterns: { 'user.*.inbox': { capacity: 10, idleSeconds: 1 } },
    bus: { backend: 'redis', redis: { url: redis.url, keyPrefix } }
  })
  const { bus } = app.ticker
  const declared = (await bus.topics()).length
  const before = await bus.cursor()
  await bus.publish('user.1.inbox', 'hello')
  await assert.rejects(bus.publish('users.1.inbox', 'x'), { code: 'TICKER_ERR_TOPIC_UNKNOWN' })
  assert.equal((await bus.topics()).length, declared + 1)
  await waitUntil(async () => (await app.ticker.dropIdleTopics()).includes('user.1.inbox'), 10_000, 'the idle topic to be dropped')
  assert.equal((await bus.topics()).length, declared)
  const raw = new Redis(redis.url)
  t.after(() => raw.disconnect())
  assert.equal(await raw.exists(`{${keyPrefix}}:t:user.1.inbox`), 0, 'its history is gone from Redis')
  assert.equal((await bus.replay(['user.1.inbox'], before)).reset?.reason, 'evicted', 'a client that was away is told, not silently short')
  await bus.publish('user.1.inbox', 'again')
  const plan = await bus.replay(['user.1.inbox'], before)
  assert.deepEqual([plan.reset?.reason, plan.events.map((e) => e.data)], ['evicted', ['again']], 'also once it is made again')
})

test('on Redis: a family topic followed through one instance is not dropped by another', { skip: redisMissing() }, async (t) => {
  const redis = await startRedis(t)
  const config = {
    topicPatterns: { 'room.*': { idleSeconds: 1 } },
    bus: { backend: 'redis', redis: { url: redis.url, keyPrefix: randomUUID() } }
  }
  const a = await startApp(t, config)
  const b = await startApp(t, config)
  await a.app.ticker.bus.publish('room.1', 'hello')
  const follower = new Recorder(t, `${b.url}/topics/room.1/stream`, ['room.1'])
  await follower.opened()
  await b.app.ticker.dropIdleTopics() // B tells Redis what its streams follow
  await waitUntil(async () => {
    const latest = await a.app.ticker.bus.latest('room.1')
    return latest !== undefined && Date.now() - latest.time > 1200
  }, 5000, 'the topic to be idle')
  assert.deepEqual(await a.app.ticker.dropIdleTopics(), [], 'followed on B, so A keeps it')
  assert.equal(a.app.ticker.bus.hasTopic('room.1'), true)
  follower.source.close()
  await waitUntil(async () => (await a.app.ticker.dropIdleTopics()).includes('room.1'), 15_000, 'A to drop it once B follows it no more')
})
