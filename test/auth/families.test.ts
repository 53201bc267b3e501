/**
 * Topic families (config `topicPatterns`): a topic matching a pattern is created by its first
 * publish with the family's settings, counted against bus.maxTopics, followed before it exists
 * (reading creates nothing), and dropped with everything held for it when idle and unfollowed.
 * Metrics name the family, never each topic. With signed tokens, this is a per-user channel.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { SignJWT } from 'jose'
import { Recorder, startApp, waitUntil } from '../helper.ts'

const SECRET = 'a-shared-secret-of-at-least-32-chars!!'
const key = new TextEncoder().encode(SECRET)
const tokenFor = async (user: number): Promise<string> =>
  new SignJWT({ ticker: { subscribe: [`user.${user}.*`] } }).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('1h').sign(key)

const FAMILIES = {
  topicPatterns: { 'user.*.inbox': { private: true, capacity: 10, idleSeconds: 1 } },
  auth: { jwt: { secret: SECRET }, publishToken: 'publisher' },
  metrics: { token: 'scraper' }
}

const post = async (url: string, topic: string, data: unknown): Promise<Response> => fetch(`${url}/topics/${topic}/events`, {
  method: 'POST', headers: { authorization: 'Bearer publisher', 'content-type': 'application/json' }, body: JSON.stringify({ data })
})

test('a per-user channel: followed before it exists, created by its first publish, private to its user', async (t) => {
  const { url, app } = await startApp(t, FAMILIES)
  const inbox = new Recorder(t, `${url}/topics/user.42.inbox/stream?access_token=${await tokenFor(42)}`, ['user.42.inbox'])
  await inbox.opened()
  assert.equal(app.ticker.bus.hasTopic('user.42.inbox'), false, 'following it created nothing')
  const history = await fetch(`${url}/topics/user.42.inbox/events`, { headers: { authorization: `Bearer ${await tokenFor(42)}` } })
  assert.equal(history.status, 200)
  assert.equal(app.ticker.bus.hasTopic('user.42.inbox'), false, 'reading its history created nothing')
  assert.equal((await post(url, 'user.42.inbox', { text: 'hello 42' })).status, 201)
  assert.deepEqual((await inbox.count(1)).map((e) => e.data), ['{"text":"hello 42"}'])
  const other = await fetch(`${url}/topics/user.43.inbox/stream`, { headers: { authorization: `Bearer ${await tokenFor(42)}` } })
  assert.equal(other.status, 403)
  assert.equal((await fetch(`${url}/topics/user.42.inbox/events`)).status, 401, 'private without a token')
  assert.equal((await post(url, 'users.42.inbox', 1)).status, 404, 'a name outside every family is still unknown')
  assert.equal((await post(url, 'user.42.inbox.x', 1)).status, 404)
})

test('family topics count against bus.maxTopics', async (t) => {
  const { url } = await startApp(t, { ...FAMILIES, bus: { maxTopics: 6 } }) // the 4 declared topics, and 2 more
  assert.equal((await post(url, 'user.1.inbox', 1)).status, 201)
  assert.equal((await post(url, 'user.2.inbox', 1)).status, 201)
  const third = await post(url, 'user.3.inbox', 1)
  assert.deepEqual([third.status, (await third.json() as { code: string }).code], [409, 'TICKER_ERR_TOPIC_LIMIT'])
})

test('10,000 family topics created and dropped when idle: state gone everywhere, memory back where it started; a followed one stays', async (t) => {
  setFlagsFromString('--expose-gc')
  const gc = runInNewContext('gc') as () => void
  const { url, app } = await startApp(t, { ...FAMILIES, bus: { maxTopics: 20_000 } })
  const { bus, dashboard } = app.ticker
  const declared = (await bus.topics()).length
  const heap = (): number => { gc(); gc(); return process.memoryUsage().heapUsed }
  const round = async (): Promise<void> => {
    for (let i = 0; i < 10_000; i++) await bus.publish(`user.${i}.inbox`, { text: `hello ${i}`, pad: 'x'.repeat(100) })
  }
  // A first round warms every code path up, so the measured one compares like with like.
  await round()
  await waitUntil(async () => (await app.ticker.dropIdleTopics()).length > 0 && (await bus.topics()).length === declared, 15_000, 'the warm-up topics to go')
  const before = heap()

  const kept = new Recorder(t, `${url}/topics/user.7.inbox/stream?access_token=${await tokenFor(7)}`, ['user.7.inbox'])
  await kept.opened()
  await round()
  assert.equal((await bus.topics()).length, declared + 10_000)
  assert.ok(dashboard.size >= 10_000, 'tiles held state for them')
  const metrics = await (await fetch(`${url}/metrics`, { headers: { authorization: 'Bearer scraper' } })).text()
  const series = metrics.split('\n').filter((l) => l.startsWith('ticker_bus_events_published_total{'))
  assert.ok(series.some((l) => l.includes('topic="user.*.inbox"')), 'one series for the family')
  assert.ok(!series.some((l) => /topic="user\.\d+\.inbox"/.test(l)), 'never one per user')
  const grown = heap()
  assert.ok(grown - before > 2_000_000, `10,000 topics take memory (${grown - before} bytes)`)

  await waitUntil(async () => {
    await app.ticker.dropIdleTopics()
    return (await bus.topics()).length === declared + 1
  }, 15_000, 'the idle topics to be dropped')
  assert.equal(bus.hasTopic('user.7.inbox'), true, 'a followed topic is not idle')
  assert.ok(dashboard.size < 20, `tiles forgot them (${dashboard.size} left)`)
  const after = heap()
  assert.ok(after - before < 1_500_000, `memory back where it started: ${before} → ${grown} → ${after} bytes`)
  kept.source.close()
  await waitUntil(async () => {
    await app.ticker.dropIdleTopics()
    return !bus.hasTopic('user.7.inbox')
  }, 15_000, 'the unfollowed topic to go too')
})

test('a client resuming from before its topic was dropped when idle is told reset, not silently short', async (t) => {
  const { url, app } = await startApp(t, FAMILIES)
  const token = await tokenFor(42)
  const first = ((await (await post(url, 'user.42.inbox', 'one')).json()) as { id: string }).id
  await post(url, 'user.42.inbox', 'two') // published while the client was away
  await waitUntil(async () => (await app.ticker.dropIdleTopics()).includes('user.42.inbox'), 10_000, 'the topic to be dropped')
  const gone = new Recorder(t, `${url}/topics/user.42.inbox/stream?access_token=${token}&lastEventId=${first}`, ['user.42.inbox'])
  assert.deepEqual((await gone.count(1)).map((e) => e.type), ['reset'], 'dropped: what it had is gone')
  gone.source.close()
  await post(url, 'user.42.inbox', 'three') // made again
  const again = new Recorder(t, `${url}/topics/user.42.inbox/stream?access_token=${token}&lastEventId=${first}`, ['user.42.inbox'])
  assert.deepEqual((await again.count(2)).map((e) => [e.type, e.data]), [['reset', JSON.stringify({ topics: ['user.42.inbox'], reason: 'evicted' })], ['user.42.inbox', '"three"']])
})
