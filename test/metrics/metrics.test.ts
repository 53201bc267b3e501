import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { Recorder, logCapture, publish, startApp, waitUntil } from '../helper.ts'
import { sample, scrape } from './scrape.ts'

test('metric values follow real activity', async (t) => {
  const logs = logCapture()
  const { url } = await startApp(t, {
    topics: { a: {}, 'broken.status': {}, broken: {} },
    producers: { feeds: [{ name: 'dead', url: 'http://127.0.0.1:9/feed', topic: 'broken', schedule: '0 0 1 1 *' }] },
    log: { level: 'warn' }
  }, { logStream: logs.stream })
  const before = await scrape(url)
  assert.equal(sample(before, 'ticker_sse_open_streams'), 0)

  const clients = [1, 2, 3].map(() => new Recorder(t, `${url}/topics/a/stream`, ['a']))
  await Promise.all(clients.map(async (c) => c.opened()))
  let text = await scrape(url)
  assert.equal(sample(text, 'ticker_sse_open_streams'), 3)
  assert.equal(sample(text, 'ticker_sse_subscribers', { topic: 'a' }), 3)
  assert.equal(sample(text, 'ticker_sse_connections_opened_total'), 3)

  for (let i = 0; i < 5; i++) await publish(url, 'a', i)
  await Promise.all(clients.map(async (c) => c.count(5)))
  text = await scrape(url)
  assert.equal(sample(text, 'ticker_bus_events_published_total', { topic: 'a' }), 5)
  assert.equal(sample(text, 'ticker_bus_buffered_events', { topic: 'a' }), 5)
  assert.equal(sample(text, 'ticker_sse_events_delivered_total'), 15)
  assert.equal(sample(text, 'ticker_http_request_duration_seconds_count', { route: '/topics/:topic/events', method: 'POST', status_class: '2xx' }), 5)
  assert.ok((sample(text, 'ticker_bus_last_event_timestamp_seconds', { topic: 'a' }) ?? 0) > Date.now() / 1000 - 60)

  for (const c of clients) c.source.close()
  await waitUntil(async () => sample(await scrape(url), 'ticker_sse_open_streams') === 0, 5000, 'the gauge to fall to 0')
  text = await scrape(url)
  assert.equal(sample(text, 'ticker_sse_subscribers', { topic: 'a' }), 0)
  assert.doesNotMatch(text, /ticker_http_request_duration_seconds_count\{route="\/topics\/:topic\/stream"/, 'streams are not requests in the histogram')
  assert.equal(sample(text, 'ticker_sse_connections_closed_total', { reason: 'client' }), 3)

  // The dead feed failed its first poll at startup: counted by outcome and by feed.
  assert.equal(sample(text, 'ticker_producer_runs_total', { producer: 'feed:dead', outcome: 'error' }), 1)
  assert.equal(sample(text, 'ticker_producer_runs_total', { producer: 'feed:dead', outcome: 'ok' }), 0)
  assert.equal(sample(text, 'ticker_feed_consecutive_failures', { feed: 'dead' }), 1)
  assert.equal(sample(text, 'ticker_feed_last_http_status', { feed: 'dead' }), 0)
  assert.equal(sample(text, 'ticker_producer_run_duration_seconds_count', { producer: 'feed:dead' }), 1)
  const failure = logs.lines.find((l) => l.producer === 'feed:dead')
  assert.match(String(failure?.msg), /^producer feed:dead failed: /, 'the failure is logged with its producer and reason')
  assert.ok(sample(text, 'process_cpu_user_seconds_total') !== undefined, 'process defaults are there')
  assert.ok(sample(text, 'nodejs_eventloop_lag_seconds') !== undefined, 'runtime defaults are there')
})

test('replays and resets are counted', async (t) => {
  const { url } = await startApp(t, { topics: { a: {} } })
  const first = await publish(url, 'a', 1)
  await publish(url, 'a', 2)
  const resumed = new Recorder(t, `${url}/topics/a/stream?lastEventId=${first}`, ['a'])
  await resumed.count(1)
  const lost = new Recorder(t, `${url}/topics/a/stream?lastEventId=gone-1`, ['a'])
  await lost.count(2)
  const text = await scrape(url)
  assert.equal(sample(text, 'ticker_sse_replays_total'), 2)
  assert.equal(sample(text, 'ticker_sse_replayed_events_total'), 2)
  assert.equal(sample(text, 'ticker_sse_resets_total'), 1)
})

test('labels stay bounded: unknown topics, URLs and addresses never become label values', async (t) => {
  const { url } = await startApp(t, { topics: { a: {} } })
  for (const path of ['/topics/made-up/stream', '/nowhere/abc123', '/topics/a/events?after=xyz', '/d/secret-board']) await (await fetch(`${url}${path}`)).text()
  const text = await scrape(url)
  for (const leaked of ['made-up', 'abc123', 'xyz', 'secret-board', '127.0.0.1']) assert.ok(!text.includes(leaked), leaked)
  assert.equal(sample(text, 'ticker_http_request_duration_seconds_count', { route: 'unmatched', method: 'GET', status_class: '4xx' }), 1)
})

test('/metrics behind a token, or on a listener of its own', async (t) => {
  const guarded = await startApp(t, { metrics: { token: 'scrape-me' } })
  assert.equal((await fetch(`${guarded.url}/metrics`)).status, 401)
  assert.equal((await fetch(`${guarded.url}/metrics`, { headers: { authorization: 'Bearer nope' } })).status, 401)
  assert.match(await scrape(guarded.url, { authorization: 'Bearer scrape-me' }), /ticker_sse_open_streams 0/)

  const apart = await startApp(t, { metrics: { separate: { enabled: true, host: '127.0.0.1', port: 0 } } })
  assert.equal((await fetch(`${apart.url}/metrics`)).status, 404, 'not on the main listener')
  const address = apart.app.ticker.metricsAddress
  assert.ok(address !== undefined)
  assert.match(await scrape(address), /ticker_sse_open_streams 0/)
  assert.equal((await fetch(`${address}/other`)).status, 404)
})

test('the scrape passes promtool check metrics', async (t) => {
  if (!existsSync('/usr/bin/promtool')) {
    if (process.env.CI === 'true') throw new Error('promtool is missing: CI must install Debian\'s prometheus package')
    t.skip('promtool is not installed (apt-get install prometheus)')
    return
  }
  const { url } = await startApp(t, { topics: { a: {} }, producers: { clock: { enabled: true, schedule: '* * * * * *' } } })
  const client = new Recorder(t, `${url}/topics/a/stream`, ['a'])
  await client.opened()
  await publish(url, 'a', 1)
  await (await fetch(`${url}/nowhere`)).text()
  const text = await scrape(url)
  const child = spawn('/usr/bin/promtool', ['check', 'metrics'], { stdio: ['pipe', 'pipe', 'pipe'] })
  let output = ''
  child.stdout.on('data', (d: Buffer) => { output += d.toString() })
  child.stderr.on('data', (d: Buffer) => { output += d.toString() })
  child.stdin.end(text)
  const code = await new Promise((resolve) => child.on('close', resolve))
  assert.equal(code, 0, output)
})

test('an html stream renders each tile once per event, whatever the number of subscribers', async (t) => {
  const { url } = await startApp(t, { topics: { x: {} } })
  const clients = [1, 2, 3, 4].map(() => new Recorder(t, `${url}/topics/x/stream?format=html`, ['x']))
  await Promise.all(clients.map(async (c) => c.opened()))
  const before = sample(await scrape(url), 'ticker_tile_renders_total') ?? NaN
  for (let i = 0; i < 5; i++) await publish(url, 'x', { i })
  await Promise.all(clients.map(async (c) => c.count(5)))
  assert.equal((sample(await scrape(url), 'ticker_tile_renders_total') ?? NaN) - before, 5)
})
