/**
 * Whatever renders or streams data of a topic checks access to that topic, whichever topic was
 * named: a feed tile shows its status topic too, so both halves of the pair must agree.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { buildApp } from '../../src/app.ts'
import { ConfigError } from '../../src/config/load.ts'
import type { Config } from '../../src/config/schema.ts'
import { PRIVATE_TOPICS_LABEL } from '../../src/metrics/registry.ts'
import { SUB_TOKEN, publish, readStream, startApp, testConfig } from '../helper.ts'
import { sample, scrape } from '../metrics/scrape.ts'

const FEED = { name: 'priv', url: 'http://127.0.0.1:9/feed', topic: 'privfeed', schedule: '0 0 1 1 *' }

const problemsOf = (overrides: unknown): readonly string[] => {
  try {
    testConfig(overrides)
    return []
  } catch (err) {
    if (err instanceof ConfigError) return err.problems
    throw err
  }
}

test('a feed and its status topic are both private or neither', () => {
  const mixed = { auth: { subscribeToken: SUB_TOKEN }, producers: { feeds: [FEED] } }
  assert.deepEqual(problemsOf({ ...mixed, topics: { privfeed: { private: true }, 'privfeed.status': {} } }), [
    'producers.feeds.0.topic: "privfeed" is private but "privfeed.status" is not; a feed tile shows both, so make both private or neither'
  ])
  assert.deepEqual(problemsOf({ ...mixed, topics: { privfeed: {}, 'privfeed.status': { private: true } } }), [
    'producers.feeds.0.topic: "privfeed.status" is private but "privfeed" is not; a feed tile shows both, so make both private or neither'
  ])
  assert.deepEqual(problemsOf({ ...mixed, topics: { privfeed: { private: true }, 'privfeed.status': { private: true } } }), [])
  // A dashboard's feed tile also shows the status topic; dashboards are public.
  assert.deepEqual(problemsOf({
    auth: { subscribeToken: SUB_TOKEN },
    topics: { wire: {}, 'wire.status': { private: true } },
    dashboards: { main: { title: 'T', tiles: [{ topic: 'wire', kind: 'feed' }] } }
  }), ['dashboards.main.tiles.0.topic: "wire.status" is private but "wire" is not; a feed tile shows both, so make both private or neither'])
})

test('rendering a tile checks access to every topic it shows, even where config let a pair through', async (t) => {
  // The config check above keeps such a pair out; this proves the routes would not leak it anyway.
  const valid = testConfig({ auth: { subscribeToken: SUB_TOKEN }, topics: { privfeed: { private: true }, 'privfeed.status': { private: true } }, producers: { feeds: [FEED] } })
  const config: Config = { ...valid, topics: Object.assign(Object.create(null) as Config['topics'], valid.topics, { 'privfeed.status': {} }) }
  const app = await buildApp(config)
  t.after(() => app.close())
  await app.listen({ host: '127.0.0.1', port: 0 })
  const url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`
  await app.ticker.bus.publish('privfeed', { title: 'Classified headline', link: 'https://example.com/x' })
  await app.ticker.bus.publish('privfeed.status', { state: 'ok' })

  const embed = await fetch(`${url}/embed/privfeed.status`)
  assert.equal(embed.status, 404)
  assert.doesNotMatch(await embed.text(), /Classified/)
  const html = await fetch(`${url}/stream?format=html&topics=privfeed.status`)
  assert.equal(html.status, 401)
  assert.equal((await html.json() as { code: string }).code, 'TICKER_ERR_TOPIC_PRIVATE')
  const withToken = await readStream(`${url}/stream?format=html&topics=privfeed.status&access_token=${SUB_TOKEN}`, (s) => s.includes('Classified'))
  assert.equal(withToken.res.status, 200, 'the token opens both')
})

test('/metrics names private topics only when it needs a token itself', async (t) => {
  const topics = { pub: {}, vault: { private: true }, safe: { private: true } }
  const open = await startApp(t, { auth: { subscribeToken: SUB_TOKEN }, topics })
  for (const name of ['pub', 'vault', 'safe', 'vault']) await publish(open.url, name, 1)
  const text = await scrape(open.url)
  assert.doesNotMatch(text, /vault|safe/)
  assert.equal(sample(text, 'ticker_bus_events_published_total', { topic: 'pub' }), 1)
  assert.equal(sample(text, 'ticker_bus_events_published_total', { topic: PRIVATE_TOPICS_LABEL }), 3)
  assert.equal(sample(text, 'ticker_bus_buffered_events', { topic: PRIVATE_TOPICS_LABEL }), 3)

  const guarded = await startApp(t, { auth: { subscribeToken: SUB_TOKEN }, topics, metrics: { token: 'm-token' } })
  await publish(guarded.url, 'vault', 1)
  const named = await scrape(guarded.url, { authorization: 'Bearer m-token' })
  assert.equal(sample(named, 'ticker_bus_events_published_total', { topic: 'vault' }), 1)
})
