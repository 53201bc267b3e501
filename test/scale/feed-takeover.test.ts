/**
 * A feed taken over by another instance picks up where the last runner left: no item published
 * again, and the next poll is conditional (ETag), so a failover does not hammer the feed.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { readFileSync } from 'node:fs'
import { createServer, type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'
import { randomUUID } from 'node:crypto'
import { startApp, waitUntil } from '../helper.ts'
import { redisMissing, startRedis } from '../redis.ts'

const RSS = readFileSync(new URL('../fixtures/feeds/rss.xml', import.meta.url), 'utf8')

test('a feed taken over by another instance publishes nothing again and polls conditionally', { skip: redisMissing() }, async (t) => {
  const requests: Array<IncomingMessage['headers']> = []
  const feed = createServer((req, res) => {
    requests.push(req.headers)
    if (req.headers['if-none-match'] === '"v1"') {
      res.writeHead(304)
      res.end()
      return
    }
    res.writeHead(200, { 'content-type': 'application/rss+xml', etag: '"v1"' })
    res.end(RSS)
  })
  feed.listen(0, '127.0.0.1')
  await once(feed, 'listening')
  t.after(() => { feed.closeAllConnections(); feed.close() })
  const redis = await startRedis(t)
  const config = {
    topics: { news: { capacity: 100 }, 'news.status': { capacity: 100 } },
    bus: { backend: 'redis', redis: { url: redis.url, keyPrefix: randomUUID(), leaseTtlMs: 600 } },
    producers: { feeds: [{ name: 'n', url: `http://127.0.0.1:${(feed.address() as AddressInfo).port}/rss`, topic: 'news', schedule: '0 0 1 1 *' }] }
  }
  const first = await startApp(t, config)
  const polled = (app: typeof first): boolean => {
    const state = app.app.ticker.scheduler.state()[0]
    return state?.runs === 1 && !state.running && state.lastSuccessAt !== null
  }
  await waitUntil(() => polled(first), 10_000, 'the first poll to be done')
  assert.equal(requests.length, 1)
  const items = async (): Promise<unknown[]> =>
    ((await (await fetch(`${first.url}/topics/news/events?limit=100`)).json()) as { events: unknown[] }).events
  const published = (await items()).length
  assert.ok(published > 0)

  const second = await startApp(t, config)
  await first.app.close() // gives the lease up
  await waitUntil(() => second.app.ticker.scheduler.state()[0]?.runsHere === true, 5000, 'the second instance to take the feed')
  await second.app.ticker.scheduler.runNow('feed:n')
  assert.equal(requests.at(-1)?.['if-none-match'], '"v1"', 'the poll after the takeover is conditional')
  const after = ((await (await fetch(`${second.url}/topics/news/events?limit=100`)).json()) as { events: unknown[] }).events
  assert.equal(after.length, published, 'no item published again')
})

test('an item whose publish fails (Redis lost mid-poll) goes out with the next poll, not lost', { skip: redisMissing() }, async (t) => {
  const redis = await startRedis(t)
  const withoutThird = RSS.replace(/<item>\s*<title>Third story[\s\S]*?<\/item>/, '')
  let requests = 0
  const feed = createServer((_req, res) => {
    requests++
    const respond = (): void => {
      res.writeHead(200, { 'content-type': 'application/rss+xml' })
      res.end(requests === 1 ? withoutThird : RSS)
    }
    // The second poll finds the new item, and Redis goes away before it can be published.
    if (requests === 2) redis.stop().then(respond, respond)
    else respond()
  })
  feed.listen(0, '127.0.0.1')
  await once(feed, 'listening')
  t.after(() => { feed.closeAllConnections(); feed.close() })
  const { app, url } = await startApp(t, {
    topics: { news: { capacity: 100 }, 'news.status': { capacity: 100 } },
    bus: { backend: 'redis', redis: { url: redis.url, keyPrefix: randomUUID(), leaseTtlMs: 600 } },
    producers: { feeds: [{ name: 'n', url: `http://127.0.0.1:${(feed.address() as AddressInfo).port}/rss`, topic: 'news', schedule: '0 0 1 1 *', backoffBaseMs: 1, backoffMaxMs: 1 }] }
  })
  const { scheduler } = app.ticker
  const feedState = (): ReturnType<typeof scheduler.state>[number] | undefined => scheduler.state()[0]
  await waitUntil(() => feedState()?.runs === 1 && feedState()?.running === false, 10_000, 'the first poll')

  await scheduler.runNow('feed:n')
  assert.equal(requests, 2)
  assert.equal(feedState()?.failures, 1, 'the poll whose publish failed is a failure')

  await redis.start() // empty: the history of the first poll is gone with it
  await waitUntil(() => app.ticker.bus.state === 'up' && feedState()?.runsHere === true, 10_000, 'the bus and the lease to be back')
  await scheduler.runNow('feed:n')
  assert.equal(requests, 3)
  const events = ((await (await fetch(`${url}/topics/news/events?limit=100`)).json()) as { events: Array<{ data: { title: string } }> }).events
  assert.deepEqual(events.map((e) => e.data.title), ['Third story'], 'the item that failed is published now, and only it')
})
