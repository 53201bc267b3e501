/**
 * The feed producer against a local HTTP server serving fixture feeds: formats, hostile
 * content, conditional GET, failures and backoff. Nothing here leaves loopback.
 */
import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { once } from 'node:events'
import { createServer as createNetServer, type AddressInfo } from 'node:net'
import type { FeedItemEvent, FeedStatusEvent } from '../../src/producers/feed.ts'
import { logCapture, startApp, waitUntil } from '../helper.ts'

const NEVER = '0 0 1 1 *' // polls are driven by runNow(), not by the clock
const fixture = (name: string): string => readFileSync(new URL(`../fixtures/feeds/${name}`, import.meta.url), 'utf8')

interface Seen { path: string, headers: IncomingMessage['headers'], at: number }
type Handler = (req: IncomingMessage, res: ServerResponse, nth: number) => void

async function fixtureServer (t: TestContext, handler: Handler): Promise<{ url: string, requests: Seen[] }> {
  const requests: Seen[] = []
  const server = createServer((req, res) => {
    requests.push({ path: req.url ?? '', headers: req.headers, at: Date.now() })
    handler(req, res, requests.length)
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.after(() => { server.closeAllConnections(); server.close() })
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('no port')
  return { url: `http://127.0.0.1:${address.port}`, requests }
}

const serve = (body: string, type = 'application/rss+xml', headers: Record<string, string> = {}): Handler => (_req, res) => {
  res.writeHead(200, { 'content-type': type, ...headers })
  res.end(body)
}

interface FeedUnderTest {
  poll: () => Promise<void>
  items: () => Promise<FeedItemEvent[]>
  statuses: () => Promise<FeedStatusEvent[]>
  lastStatus: () => Promise<FeedStatusEvent>
}

async function feedApp (t: TestContext, feedUrl: string, options: Record<string, unknown> = {}, logStream?: { write (line: string): void }): Promise<FeedUnderTest> {
  const { app, url } = await startApp(t, {
    topics: { feed: { capacity: 100 }, 'feed.status': { capacity: 100 } },
    producers: { feeds: [{ name: 'f', url: feedUrl, topic: 'feed', schedule: NEVER, ...options }] },
    ...(logStream === undefined ? {} : { log: { level: 'info' } })
  }, logStream === undefined ? {} : { logStream })
  const { scheduler } = app.ticker
  await waitUntil(() => scheduler.state()[0]?.runs === 1 && !scheduler.state()[0]?.running, 10_000, 'the first poll')
  const events = async <T>(topic: string): Promise<T[]> => {
    const body = await (await fetch(`${url}/topics/${topic}/events?limit=100`)).json() as { events: Array<{ data: T }> }
    return body.events.map((e) => e.data)
  }
  const statuses = async (): Promise<FeedStatusEvent[]> => events<FeedStatusEvent>('feed.status')
  return {
    poll: async () => scheduler.runNow('feed:f'),
    items: async () => events<FeedItemEvent>('feed'),
    statuses,
    lastStatus: async () => (await statuses()).at(-1) as FeedStatusEvent
  }
}

const titles = (items: FeedItemEvent[]): string[] => items.map((i) => i.title)

test('RSS 2.0: items oldest first, with source, link, date and summary; status ok', async (t) => {
  const server = await fixtureServer(t, serve(fixture('rss.xml')))
  const feed = await feedApp(t, `${server.url}/rss`)
  const items = await feed.items()
  assert.deepEqual(items[0], { feed: 'f', source: 'Example RSS', title: 'First story', link: 'https://example.com/1', published: '2026-11-21T10:00:00.000Z', summary: 'First summary' })
  assert.deepEqual(titles(items), ['First story', 'Second story', 'Third story'])
  const status = await feed.lastStatus()
  assert.equal(status.state, 'ok')
  assert.equal(status.httpStatus, 200)
  assert.equal(status.itemsPublished, 3)
  assert.equal(status.consecutiveFailures, 0)
  assert.match(server.requests[0]?.headers['user-agent'] ?? '', /^Ticker\//)
})

test('Atom 1.0: html titles stripped, text titles kept, alternate link chosen', async (t) => {
  const server = await fixtureServer(t, serve(fixture('atom.xml'), 'application/atom+xml'))
  const items = await (await feedApp(t, `${server.url}/atom`)).items()
  assert.deepEqual(items.map((i) => [i.title, i.link, i.summary, i.source]), [
    ['First entry: a < b', 'https://example.org/1', 'First content', 'Example Atom'],
    ['Second entry', 'https://example.org/2', 'Second bold summary', 'Example Atom']
  ])
})

test('RDF (RSS 1.0) and JSON Feed', async (t) => {
  const rdf = await fixtureServer(t, serve(fixture('rdf.xml'), 'application/rdf+xml'))
  assert.deepEqual((await (await feedApp(t, `${rdf.url}/rdf`)).items()).map((i) => [i.title, i.link, i.published]),
    [['RDF item A', 'https://example.net/a', '2026-11-21T09:00:00.000Z']])
  const json = await fixtureServer(t, serve(fixture('feed.json'), 'application/feed+json'))
  assert.deepEqual((await (await feedApp(t, `${json.url}/json`)).items()).map((i) => [i.title, i.summary, i.source]),
    [['JSON one', 'One summary', 'Example JSON Feed'], ['JSON two', 'Two body', 'Example JSON Feed']])
})

test('a real-world-shaped feed: HTML stripped, hostile links dropped, relative links resolved, summaries capped', async (t) => {
  const server = await fixtureServer(t, serve(fixture('real-world.xml')))
  const items = await (await feedApp(t, `${server.url}/news/feed.xml`, { summaryMaxChars: 40 })).items()
  const byTitle = new Map(items.map((i) => [i.title, i]))
  const breaking = byTitle.get('Breaking: markets & rally')
  assert.ok(breaking, `titles were ${JSON.stringify(titles(items))}`)
  assert.equal(breaking.source, 'Messy & Real', 'RSS text is read as HTML: the unknown <News> tag goes')
  assert.equal(breaking.link, `${server.url}/relative/story`)
  assert.equal(breaking.published, '2026-11-21T07:00:00.000Z')
  assert.equal(breaking.summary, 'Prices rose today. More text that goes…')
  assert.ok(breaking.summary.length <= 40)
  const sneaky = byTitle.get('Sneaky link')
  assert.equal(sneaky?.link, null, 'javascript: links never reach a page')
  assert.equal(sneaky?.summary, 'Encoded & content')
  assert.equal(byTitle.get('No link, no guid')?.published, null)
  assert.equal(byTitle.has('Duplicate guid'), false, 'an item repeating a guid is published once')
  for (const item of items) assert.doesNotMatch(JSON.stringify(item), /<script|onerror|javascript:/)
})

test('the first poll publishes only the newest N; later polls only what is new', async (t) => {
  const items = (from: number, to: number): string => Array.from({ length: to - from + 1 }, (_, k) => {
    const i = to - k
    return `<item><title>Item ${i}</title><guid>g${i}</guid><pubDate>${new Date(Date.UTC(2026, 0, 1, 0, i)).toUTCString()}</pubDate></item>`
  }).join('')
  const rss = (body: string): string => `<?xml version="1.0"?><rss version="2.0"><channel><title>N</title>${body}</channel></rss>`
  const server = await fixtureServer(t, (_req, res, nth) => {
    res.writeHead(200, { 'content-type': 'application/rss+xml' })
    res.end(rss(nth === 1 ? items(1, 15) : items(12, 18)))
  })
  const feed = await feedApp(t, `${server.url}/feed`, { firstPollItems: 5 })
  assert.deepEqual(titles(await feed.items()), ['Item 11', 'Item 12', 'Item 13', 'Item 14', 'Item 15'])
  await feed.poll()
  assert.deepEqual(titles(await feed.items()).slice(5), ['Item 16', 'Item 17', 'Item 18'])
  assert.equal((await feed.lastStatus()).itemsPublished, 3)
})

test('conditional GET: the ETag and Last-Modified go back, and 304 publishes nothing', async (t) => {
  const server = await fixtureServer(t, (req, res) => {
    if (req.headers['if-none-match'] === '"v1"') {
      res.writeHead(304)
      res.end()
      return
    }
    res.writeHead(200, { 'content-type': 'application/rss+xml', etag: '"v1"', 'last-modified': 'Sat, 21 Nov 2026 12:00:00 GMT' })
    res.end(fixture('rss.xml'))
  })
  const feed = await feedApp(t, `${server.url}/rss`)
  await feed.poll()
  assert.equal(server.requests[1]?.headers['if-none-match'], '"v1"')
  assert.equal(server.requests[1]?.headers['if-modified-since'], 'Sat, 21 Nov 2026 12:00:00 GMT')
  assert.equal((await feed.items()).length, 3)
  const status = await feed.lastStatus()
  assert.deepEqual([status.state, status.httpStatus, status.itemsPublished], ['ok', 304, 0])
})

test('500, then recovery: an error status with a backoff, no poll before it ends, then ok', async (t) => {
  const server = await fixtureServer(t, (_req, res, nth) => {
    if (nth === 1) {
      res.writeHead(500, 'Internal Server Error')
      res.end('oops')
      return
    }
    serve(fixture('rss.xml'))(_req, res, nth)
  })
  const feed = await feedApp(t, `${server.url}/rss`, { backoffBaseMs: 300, backoffMaxMs: 1000 })
  const failed = await feed.lastStatus()
  assert.equal(failed.state, 'error')
  assert.equal(failed.reason, 'the server answered HTTP 500 Internal Server Error')
  assert.equal(failed.httpStatus, 500)
  assert.equal(failed.consecutiveFailures, 1)
  const nextAttemptAt = Date.parse(failed.nextAttemptAt ?? '')
  const backoff = nextAttemptAt - Date.parse(failed.checkedAt)
  assert.ok(backoff >= 150 && backoff <= 450, `backoff ${backoff} ms is base ±50 %`)

  await feed.poll() // inside the backoff window: skipped, the server sees nothing
  if (Date.now() < nextAttemptAt) assert.equal(server.requests.length, 1)
  await waitUntil(async () => {
    await feed.poll()
    return (await feed.lastStatus()).state === 'ok'
  }, 5000, 'recovery')
  assert.ok((server.requests[1]?.at ?? 0) >= nextAttemptAt, 'the retry waited for the backoff')
  const recovered = await feed.lastStatus()
  assert.deepEqual([recovered.consecutiveFailures, recovered.nextAttemptAt, recovered.itemsPublished], [0, null, 3])
  assert.ok(recovered.lastSuccessAt !== null)
})

test('Retry-After on 429 and 503 is honoured', async (t) => {
  for (const status of [429, 503]) {
    const server = await fixtureServer(t, (_req, res) => {
      res.writeHead(status, { 'retry-after': '120' })
      res.end()
    })
    const failed = await (await feedApp(t, `${server.url}/busy`, { backoffBaseMs: 100 })).lastStatus()
    const waitMs = Date.parse(failed.nextAttemptAt ?? '') - Date.parse(failed.checkedAt)
    assert.ok(waitMs >= 120_000, `waits ${waitMs} ms after ${status}`)
    assert.equal(failed.httpStatus, status)
  }
})

test('failures end in an error status with a reason, never a crash', async (t) => {
  const server = await fixtureServer(t, (req, res) => {
    switch (req.url) {
      case '/slow': return // never answers
      case '/big': res.writeHead(200, { 'content-type': 'application/rss+xml', 'content-length': '5000' }); res.end('x'.repeat(5000)); return
      case '/big-chunked': res.writeHead(200, { 'content-type': 'application/rss+xml' }); res.write('x'.repeat(3000)); res.end('x'.repeat(3000)); return
      case '/malformed': serve(fixture('malformed.xml'))(req, res, 0); return
      case '/html': serve('<!doctype html><html><body>Not a feed</body></html>', 'text/html')(req, res, 0); return
      case '/bad-json': serve('{"version": ', 'application/feed+json')(req, res, 0); return
      case '/loop': res.writeHead(302, { location: '/loop' }); res.end(); return
      case '/to-ftp': res.writeHead(301, { location: 'ftp://example.com/feed' }); res.end(); return
      default: res.writeHead(404); res.end()
    }
  })
  const cases: Array<[path: string, reason: RegExp, options?: Record<string, unknown>]> = [
    ['/slow', /^no answer within 200 ms$/, { timeoutMs: 200 }],
    ['/big', /^the feed is 5000 bytes, over the limit of 1000$/, { maxBytes: 1000 }],
    ['/big-chunked', /^the feed is over the limit of 4000 bytes$/, { maxBytes: 4000 }],
    ['/malformed', /^not a readable RSS, Atom, RDF or JSON feed/],
    ['/html', /^not a readable RSS, Atom, RDF or JSON feed/],
    ['/bad-json', /^not a readable RSS, Atom, RDF or JSON feed \(invalid JSON\)$/],
    ['/loop', /^more than 3 redirects$/, { maxRedirects: 3 }],
    ['/to-ftp', /^redirect to a non-HTTP URL \(ftp:\)$/],
    ['/missing', /^the server answered HTTP 404/]
  ]
  await Promise.all(cases.map(async ([path, reason, options]) => {
    const feed = await feedApp(t, `${server.url}${path}`, options)
    const status = await feed.lastStatus()
    assert.equal(status.state, 'error', path)
    assert.match(status.reason ?? '', reason, path)
    assert.deepEqual(await feed.items(), [], path)
  }))
  assert.equal(server.requests.filter((r) => r.path === '/loop').length, 4, 'the first request and 3 redirects')
})

test('an unreachable feed (no network) is an error state; the service keeps working', async (t) => {
  const gone = createNetServer().listen(0, '127.0.0.1')
  await once(gone, 'listening')
  const { port } = gone.address() as AddressInfo
  await new Promise((resolve) => gone.close(resolve)) // nothing listens there any more
  const feed = await feedApp(t, `http://127.0.0.1:${port}/feed`)
  const status = await feed.lastStatus()
  assert.equal(status.state, 'error')
  assert.equal(status.reason, 'connection refused')
  assert.equal(status.httpStatus, null)
})

test('an entity-expansion bomb is not expanded and external entities are not read', async (t) => {
  const server = await fixtureServer(t, serve(fixture('bomb.xml')))
  const feed = await feedApp(t, `${server.url}/bomb`)
  const items = await feed.items()
  const text = JSON.stringify(items) + JSON.stringify(await feed.statuses())
  assert.ok(text.length < 10_000, `${text.length} characters came out of a 2 KB feed`)
  assert.doesNotMatch(text, /lollollol|root:/)
})

test('duplicates across polls are published once', async (t) => {
  const server = await fixtureServer(t, serve(fixture('rss.xml')))
  const feed = await feedApp(t, `${server.url}/rss`)
  await feed.poll()
  await feed.poll()
  assert.equal(server.requests.length, 3)
  assert.deepEqual(titles(await feed.items()), ['First story', 'Second story', 'Third story'])
  assert.deepEqual((await feed.statuses()).map((s) => s.itemsPublished), [3, 0, 0])
})

test('closing the app stops the schedule and cancels a poll in flight', async (t) => {
  const server = await fixtureServer(t, () => {}) // accepts, never answers
  const { app } = await startApp(t, {
    topics: { feed: {}, 'feed.status': {} },
    producers: { feeds: [{ name: 'f', url: `${server.url}/hang`, topic: 'feed', schedule: NEVER, timeoutMs: 60_000 }] }
  })
  await waitUntil(() => server.requests.length === 1 && app.ticker.scheduler.state()[0]?.running, 5000, 'a poll in flight')
  let closed = false
  const closing = app.close().then(() => { closed = true })
  await waitUntil(() => closed, 10_000, 'close() to finish long before the 60 s poll timeout')
  await closing
  assert.equal(app.ticker.scheduler.started, false)
  assert.equal(app.ticker.scheduler.state()[0]?.running, false)
  assert.equal(app.ticker.scheduler.state()[0]?.failures, 0, 'a cancelled poll is not a feed failure')
})

test('the log: one line when a feed starts failing, none for the same failure again, one when it works again, and no stack for it', async (t) => {
  const server = await fixtureServer(t, (_req, res, nth) => {
    if (nth <= 3) {
      res.writeHead(500, 'Internal Server Error')
      res.end('oops')
      return
    }
    serve(fixture('rss.xml'))(_req, res, nth)
  })
  const logs = logCapture()
  const feed = await feedApp(t, `${server.url}/rss`, { backoffBaseMs: 1, backoffMaxMs: 1 }, logs.stream)
  await waitUntil(async () => {
    await feed.poll()
    return (await feed.lastStatus()).state === 'ok'
  }, 5000, 'three failures, then recovery')
  assert.equal(server.requests.length, 4)
  const about = logs.lines.filter((line) => String(line.msg).startsWith('producer feed:f'))
  assert.deepEqual(about.map((line) => [line.level, line.msg]), [
    [40, 'producer feed:f failed: the server answered HTTP 500 Internal Server Error'],
    [30, 'producer feed:f works again']
  ])
  assert.equal(about[0]?.err, undefined, 'an expected failure has no stack trace')
  assert.equal(about[0]?.reason, 'the server answered HTTP 500 Internal Server Error')
})
