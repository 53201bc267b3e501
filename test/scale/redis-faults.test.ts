/**
 * Redis out of reach while Ticker runs (frozen, as behind a partition, then back with its data):
 * open streams stay open, publishing answers 503 with a clear error, /readyz and /metrics say so;
 * when Redis is back the same streams go on, and a client that resumes gets no reset.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { Recorder, TOKEN, logCapture, publish, startApp, waitUntil } from '../helper.ts'
import { sample, scrape } from '../metrics/scrape.ts'
import { redisMissing, startRedis } from '../redis.ts'

const post = async (url: string, data: unknown): Promise<Response> => fetch(`${url}/topics/t/events`, {
  method: 'POST',
  headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
  body: JSON.stringify({ data })
})

test('Redis frozen, then back: streams stay open, publishing is 503 meanwhile, nothing lost and no reset after', { skip: redisMissing() }, async (t) => {
  const redis = await startRedis(t)
  const { url } = await startApp(t, { topics: { t: {} }, bus: { backend: 'redis', redis: { url: redis.url, keyPrefix: randomUUID() } } })
  const client = new Recorder(t, `${url}/topics/t/stream`, ['t'])
  await client.opened()
  const first = await publish(url, 't', 'before')
  await client.count(1)

  redis.freeze()
  t.after(() => redis.thaw())
  // Sent to a Redis that does not answer: Redis may still run it when it wakes up, and says so.
  const unknown = await post(url, 'sent while frozen')
  assert.equal(unknown.status, 504)
  assert.equal((await unknown.json() as { code: string }).code, 'TICKER_ERR_BUS_TIMEOUT')
  // From then on the bus knows it is down: nothing is sent, the answer is at once and certain.
  const refused = await post(url, 'refused while down')
  assert.equal(refused.status, 503)
  assert.deepEqual(await refused.json(), { code: 'TICKER_ERR_BUS_UNAVAILABLE', message: 'The event store (Redis) is unavailable; retry shortly' })
  const ready = await fetch(`${url}/readyz`)
  assert.equal(ready.status, 503)
  assert.match(JSON.stringify(await ready.json()), /unavailable/)
  const metrics = await fetch(`${url}/metrics`) // served from what the process holds
  assert.equal(sample(await metrics.text(), 'ticker_bus_up'), 0)
  assert.equal(client.errors, 0, 'the open stream stays open')

  redis.thaw()
  await waitUntil(async () => (await fetch(`${url}/readyz`)).status === 200, 10_000, 'ready again')
  assert.equal(sample(await scrape(url), 'ticker_bus_up'), 1)
  const after = await publish(url, 't', 'after')
  assert.deepEqual((await client.count(3)).map((e) => e.data), ['"before"', '"sent while frozen"', '"after"'],
    'the event Redis ran when it woke up, never the refused one')
  assert.equal(client.opens, 1, 'the same connection')
  const resumed = new Recorder(t, `${url}/topics/t/stream?lastEventId=${first}`, ['t'])
  assert.deepEqual((await resumed.count(2)).map((e) => [e.type, e.data]), [['t', '"sent while frozen"'], ['t', '"after"']], 'history was kept: no reset')
  assert.equal(resumed.events[1]?.id, after)
})

test('Redis restarted empty under open streams: they end, and their clients resume with reset, missing nothing after it', { skip: redisMissing() }, async (t) => {
  const redis = await startRedis(t)
  const { app, url } = await startApp(t, { topics: { t: {} }, bus: { backend: 'redis', redis: { url: redis.url, keyPrefix: randomUUID() } } })
  const client = new Recorder(t, `${url}/topics/t/stream`, ['t'])
  await client.opened()
  for (let i = 0; i < 5; i++) await publish(url, 't', `old ${i}`)
  await client.count(5)
  const epoch = app.ticker.bus.epoch

  await redis.restart() // empty: history and IDs start again
  await waitUntil(() => app.ticker.bus.state === 'up' && app.ticker.bus.epoch !== epoch, 15_000, 'the new epoch')
  await client.opened(2) // the stream ended; the client came back
  const fresh: string[] = []
  for (let i = 0; i < 8; i++) fresh.push(await publish(url, 't', `new ${i}`))
  const got = await client.count(5 + 1 + 8)
  assert.deepEqual(JSON.parse(got[5]?.data ?? '{}'), { topics: ['t'], reason: 'other-epoch' })
  assert.deepEqual(got.slice(6).map((e) => e.id), fresh, 'every event of the new history, none dropped')
})

test('Redis down at start: the service starts and says why it is not ready; once Redis is up it serves, and its producers start', { skip: redisMissing() }, async (t) => {
  const redis = await startRedis(t)
  await redis.stop()
  const logs = logCapture()
  const { app, url } = await startApp(t, {
    topics: { t: {} },
    bus: { backend: 'redis', redis: { url: redis.url, keyPrefix: randomUUID() } },
    producers: { clock: { enabled: true, schedule: '* * * * * *' } },
    log: { level: 'info' }
  }, { logStream: logs.stream })
  const ready = await fetch(`${url}/readyz`)
  assert.equal(ready.status, 503)
  const body = await ready.json() as { ready: boolean, checks: Record<string, string> }
  assert.equal(body.ready, false)
  assert.equal(body.checks.bus, 'failing: The event store (Redis) is unavailable; retry shortly')
  assert.equal((await post(url, 'too early')).status, 503)
  // A person opening the dashboard gets a page that says so and tries again by itself.
  const page = await fetch(url, { headers: { accept: 'text/html' } })
  assert.equal(page.status, 503)
  assert.match(page.headers.get('content-type') ?? '', /^text\/html/)
  assert.equal(page.headers.get('retry-after'), '5')
  const html = await page.text()
  assert.match(html, /The event store \(Redis\) is unavailable/)
  assert.match(html, /<meta http-equiv="refresh" content="5">/)
  const api = await fetch(url)
  assert.equal(api.status, 503)
  assert.equal((await api.json() as { code: string }).code, 'TICKER_ERR_BUS_UNAVAILABLE', 'API clients get JSON')
  assert.equal(sample(await scrape(url), 'ticker_bus_up'), 0)
  const ticks: unknown[] = []
  app.ticker.bus.subscribe((e) => { if (e.topic === 'clock') ticks.push(e.data) })

  await redis.start()
  await waitUntil(async () => (await fetch(`${url}/readyz`)).status === 200, 15_000, 'ready once Redis is up')
  await waitUntil(() => ticks.length > 0, 5000, 'the clock to start ticking')
  assert.equal((await post(url, 'in time')).status, 201)
  const errors = logs.lines.filter((line) => (line.level as number) >= 50)
  assert.deepEqual(errors, [], 'an outage is logged once, as a state change, not as a failure per request')
})
