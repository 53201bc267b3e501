import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Recorder, SUB_TOKEN, publish, startApp, waitUntil } from '../helper.ts'

interface TopicsBody { topics: Array<{ name: string, title: string, private: boolean, lastId: string | null, buffered: number, subscribers: number }> }

const getJson = async (url: string, headers: Record<string, string> = {}): Promise<{ status: number, body: Record<string, unknown> }> => {
  const res = await fetch(url, { headers })
  return { status: res.status, body: await res.json() as Record<string, unknown> }
}

test('GET /topics lists each topic with last ID, buffered count and subscribers', async (t) => {
  const { url } = await startApp(t, { topics: { a: { title: 'Alpha' }, b: {} } })
  const id = await publish(url, 'a', 1)
  await publish(url, 'a', 2).then(() => undefined)
  const client = new Recorder(t, `${url}/topics/a/stream`, ['a'])
  await client.opened()
  const { body } = await getJson(`${url}/topics`)
  const listed = (body as unknown as TopicsBody).topics
  assert.deepEqual(listed.map((t) => t.name), ['clock', 'system', 'news', 'news.status', 'a', 'b'], 'shipped topics first, then declaration order')
  const [a, b] = listed.slice(4)
  assert.deepEqual(a, { name: 'a', title: 'Alpha', private: false, declared: true, lastId: a?.lastId, buffered: 2, subscribers: 1, producers: [] })
  assert.notEqual(a?.lastId, id)
  assert.deepEqual(b, { name: 'b', title: 'b', private: false, declared: true, lastId: null, buffered: 0, subscribers: 0, producers: [] })
  client.source.close()
  await waitUntil(async () => ((await getJson(`${url}/topics`)).body as unknown as TopicsBody).topics[4]?.subscribers === 0,
    5000, 'the subscriber to be forgotten')
})

test('GET /topics/:topic/events pages through history', async (t) => {
  const { url } = await startApp(t, { topics: { a: { capacity: 4 } } })
  const ids: string[] = []
  for (let i = 1; i <= 6; i++) ids.push(await publish(url, 'a', i))
  const all = await getJson(`${url}/topics/a/events`)
  assert.equal(all.status, 200)
  assert.deepEqual((all.body.events as Array<{ data: number }>).map((e) => e.data), [3, 4, 5, 6])
  const page = await getJson(`${url}/topics/a/events?after=${ids[3]}&limit=1`)
  assert.deepEqual(page.body, { topic: 'a', reset: false, hasMore: true, events: [{ id: ids[4], time: (page.body.events as Array<{ time: number }>)[0]?.time, data: 5 }] })
  const gone = await getJson(`${url}/topics/a/events?after=${ids[0]}`)
  assert.equal(gone.body.reset, true)
  assert.equal((await getJson(`${url}/topics/a/events?limit=0`)).status, 400)
  assert.equal((await getJson(`${url}/topics/a/events?limit=abc`)).status, 400)
  const unknown = await getJson(`${url}/topics/nope/events`)
  assert.deepEqual([unknown.status, unknown.body.code], [404, 'TICKER_ERR_TOPIC_UNKNOWN'])
})

test('unknown routes and topics are JSON 404s', async (t) => {
  const { url } = await startApp(t)
  const route = await getJson(`${url}/nowhere?access_token=secret`)
  assert.equal(route.status, 404)
  assert.equal(route.body.code, 'TICKER_ERR_NOT_FOUND')
  assert.ok(!String(route.body.message).includes('secret'))
  const stream = await getJson(`${url}/topics/nope/stream`)
  assert.deepEqual([stream.status, stream.body.code], [404, 'TICKER_ERR_TOPIC_UNKNOWN'])
  const multi = await getJson(`${url}/stream?topics=clock,nope`)
  assert.deepEqual([multi.status, multi.body.code], [404, 'TICKER_ERR_TOPIC_UNKNOWN'])
})

test('URLs the router cannot take are JSON errors like the others, with no token echoed', async (t) => {
  const { url } = await startApp(t)
  const badEscape = await getJson(`${url}/topics/%E0%A4%A/events?access_token=secret`)
  assert.deepEqual([badEscape.status, Object.keys(badEscape.body), badEscape.body.code], [400, ['code', 'message'], 'FST_ERR_BAD_URL'])
  assert.match(String(badEscape.body.message), /^The path "\/topics\/%E0%A4%A\/events" has a malformed %-escape$/)
  const longName = await getJson(`${url}/topics/${'n'.repeat(101)}/stream`)
  assert.deepEqual([longName.status, Object.keys(longName.body), longName.body.code], [414, ['code', 'message'], 'FST_ERR_MAX_PARAM_LENGTH'])
})

test('health and readiness', async (t) => {
  const { url } = await startApp(t)
  assert.deepEqual(await getJson(`${url}/healthz`), { status: 200, body: { status: 'ok' } })
  assert.deepEqual(await getJson(`${url}/readyz`), { status: 200, body: { ready: true, checks: { bus: 'ok', sse: 'ok', producers: 'ok' } } })
})

test('private topics are never streamed, listed or replayed without the token', async (t) => {
  const { url } = await startApp(t, { topics: { pub: {}, secret: { private: true } }, auth: { subscribeToken: SUB_TOKEN } })
  await publish(url, 'secret', 'classified')
  await publish(url, 'pub', 'hello')

  for (const path of ['/topics/secret/stream', '/stream?topic=secret', '/stream?topics=pub,secret', '/topics/secret/events',
    '/topics/secret/stream?access_token=wrong']) {
    const res = await getJson(`${url}${path}`)
    assert.equal(res.status, 401, path)
    assert.equal(res.body.code, 'TICKER_ERR_TOPIC_PRIVATE', path)
  }
  const wrongHeader = await getJson(`${url}/topics/secret/events`, { authorization: 'Bearer wrong' })
  assert.equal(wrongHeader.status, 401)

  const listed = (await getJson(`${url}/topics`)).body as unknown as TopicsBody
  assert.deepEqual(listed.topics.map((t) => t.name), ['clock', 'system', 'news', 'news.status', 'pub'])
  const listedWithToken = (await getJson(`${url}/topics`, { authorization: `Bearer ${SUB_TOKEN}` })).body as unknown as TopicsBody
  assert.deepEqual(listedWithToken.topics.slice(4).map((t) => [t.name, t.private]), [['pub', false], ['secret', true]])

  const everything = new Recorder(t, `${url}/stream`, ['pub', 'secret'])
  const withQueryToken = new Recorder(t, `${url}/stream?topic=secret&access_token=${SUB_TOKEN}`, ['secret'])
  assert.deepEqual((await withQueryToken.count(1)).map((e) => e.data), ['"classified"'])
  await everything.count(1)
  await publish(url, 'secret', 'more')
  await publish(url, 'pub', 'sync')
  await everything.count(2)
  assert.deepEqual(everything.events.map((e) => e.type), ['pub', 'pub'])

  const withHeader = await getJson(`${url}/topics/secret/events`, { authorization: `Bearer ${SUB_TOKEN}` })
  assert.deepEqual((withHeader.body.events as Array<{ data: string }>).map((e) => e.data), ['classified', 'more'])
})

test('CORS: allow-listed origins may read streams and the API; others get no grant', async (t) => {
  const { url } = await startApp(t, { topics: { a: {} }, cors: { origins: ['http://good.example'] } })
  const ok = await fetch(`${url}/topics`, { headers: { origin: 'http://good.example' } })
  assert.equal(ok.headers.get('access-control-allow-origin'), 'http://good.example')
  const bad = await fetch(`${url}/topics`, { headers: { origin: 'http://evil.example' } })
  assert.equal(bad.headers.get('access-control-allow-origin'), null)

  const controller = new AbortController()
  t.after(() => controller.abort())
  const stream = await fetch(`${url}/topics/a/stream`, { headers: { origin: 'http://good.example' }, signal: controller.signal })
  assert.equal(stream.headers.get('content-type'), 'text/event-stream; charset=utf-8')
  assert.equal(stream.headers.get('access-control-allow-origin'), 'http://good.example')

  const preflight = await fetch(`${url}/topics/a/events`, {
    method: 'OPTIONS',
    headers: { origin: 'http://good.example', 'access-control-request-method': 'POST' }
  })
  assert.ok(!(preflight.headers.get('access-control-allow-methods') ?? '').includes('POST'), 'cross-origin publishing is not granted')
})

test('CORS is off by default', async (t) => {
  const { url } = await startApp(t)
  const res = await fetch(`${url}/topics`, { headers: { origin: 'http://good.example' } })
  assert.equal(res.headers.get('access-control-allow-origin'), null)
})

test('GET /producers shows each producer\'s state; /topics names the producers of a topic', async (t) => {
  const { url } = await startApp(t, { producers: { clock: { enabled: true, schedule: '* * * * * *' } } })
  const body = await waitUntil(async () => {
    const res = await getJson(`${url}/producers`)
    const clock = (res.body.producers as Array<Record<string, unknown>>)[0]
    return clock?.lastSuccessAt !== null && clock
  }, 5000, 'the first clock run')
  assert.equal(body.name, 'clock')
  assert.deepEqual(body.topics, ['clock'])
  assert.equal(body.lastError, null)
  assert.ok(Date.parse(String(body.nextRunAt)) > Date.parse(String(body.lastRunAt)))
  const topics = (await getJson(`${url}/topics`)).body as unknown as { topics: Array<{ name: string, producers: string[] }> }
  assert.deepEqual(topics.topics.find((t) => t.name === 'clock')?.producers, ['clock'])
})

test('a history page is at most api.historyMaxBytes of events, and paging goes on from there', async (t) => {
  const { app, url } = await startApp(t, { topics: { a: { capacity: 100 } }, api: { historyMaxBytes: 200 * 1024 } })
  const ids: string[] = []
  for (let i = 0; i < 30; i++) ids.push((await app.ticker.bus.publish('a', `${i}:`.padEnd(60 * 1024, 'x'))).id)
  const pages: string[][] = []
  let after = `${app.ticker.bus.epoch}-0` // from the start
  for (let more = true; more;) {
    const res = await fetch(`${url}/topics/a/events?limit=1000&after=${after}`)
    const text = await res.text()
    assert.ok(text.length < 200 * 1024 + 60 * 1024, `a page of ${text.length} bytes`)
    const page = JSON.parse(text) as { hasMore: boolean, events: Array<{ id: string }> }
    assert.ok(page.events.length > 0)
    pages.push(page.events.map((e) => e.id))
    after = page.events.at(-1)?.id ?? ''
    more = page.hasMore
  }
  assert.ok(pages.length > 1, 'more than one page')
  assert.deepEqual(pages.flat(), ids.slice(-30))
  // Without `after`: the newest events that fit, oldest first.
  const newest = await (await fetch(`${url}/topics/a/events?limit=1000`)).json() as { events: Array<{ id: string }> }
  assert.deepEqual(newest.events.map((e) => e.id), ids.slice(-newest.events.length))
})
