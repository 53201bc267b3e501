/**
 * Reading never allocates lasting state per name that only a publish may create: streams of
 * topics that do not exist yet (allowed with bus.allowUndeclaredTopics) leave nothing behind once
 * they close, in the tiles, the hub or the metrics.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { MAX_TOPICS_PER_STREAM } from '../../src/http/routes/stream.ts'
import { publish, readStream, startApp, waitUntil } from '../helper.ts'
import { scrape } from '../metrics/scrape.ts'

test('html and json streams of many new names leave no tile, session or metric series behind', async (t) => {
  const { app, url } = await startApp(t, { bus: { allowUndeclaredTopics: true } })
  const tilesBefore = app.ticker.dashboard.size
  for (let round = 0; round < 20; round++) {
    const names = Array.from({ length: MAX_TOPICS_PER_STREAM }, (_, i) => `r${round}-n${i}`)
    for (const format of ['html', 'json']) {
      const { res } = await readStream(`${url}/stream?format=${format}&topics=${names.join(',')}`, (s) => s.includes('retry:'))
      assert.equal(res.status, 200)
    }
  }
  await waitUntil(() => app.ticker.hub.size === 0, 5000, 'every stream closed')
  assert.equal(app.ticker.dashboard.size, tilesBefore, 'no tile for a name nobody published to')
  assert.equal(app.ticker.hub.subscribers('r0-n0'), 0)
  assert.doesNotMatch(await scrape(url), /r\d+-n\d+/, 'no metric series for such names')
  // A publish is what creates a topic, and with it its tile and its series.
  await publish(url, 'r0-n0', 1)
  assert.equal(app.ticker.dashboard.size, tilesBefore + 1)
  assert.match(await scrape(url), /topic="r0-n0"/)
})
