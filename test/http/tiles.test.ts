import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Eta } from 'eta'
import { MemoryBus } from '../../src/bus/memory-bus.ts'
import { topicRulesFrom } from '../../src/bus/topics.ts'
import { VIEWS_DIR } from '../../src/http/plugins/web.ts'
import { Tiles } from '../../src/http/views/tiles.ts'
import { testConfig } from '../helper.ts'

const config = testConfig({
  topics: { wire: {}, 'wire.status': {}, temps: {} },
  producers: { feeds: [{ name: 'w', url: 'http://127.0.0.1:9/feed', topic: 'wire', enabled: true }] },
  ui: { feedItems: 3 }
})

test('tiles: kinds are inferred from producers, a feed tile follows its status topic', () => {
  const tiles = new Tiles(config, new Eta({ views: VIEWS_DIR }))
  assert.deepEqual(tiles.definition('wire'), { topic: 'wire', kind: 'feed', title: 'wire', topics: ['wire', 'wire.status'] })
  assert.equal(tiles.definition('temps').kind, 'generic')
  assert.equal(tiles.definition('clock').kind, 'generic', 'the clock producer is off in this config')
})

test('tiles: a frame is rendered once per event and the feed keeps only what it shows', async () => {
  const bus = new MemoryBus(topicRulesFrom(config))
  const tiles = new Tiles(config, new Eta({ views: VIEWS_DIR }))
  const stop = tiles.follow(bus, (err) => { throw err })
  await tiles.filled
  for (let i = 1; i <= 5; i++) await bus.publish('wire', { title: `Item ${i}`, link: `https://example.com/${i}` })
  const last = await bus.latest('wire')
  assert.ok(last)
  const frame = tiles.htmlFrame(last)
  assert.equal(tiles.htmlFrame(last), frame, 'the same bytes, not a second render')
  const text = frame.toString()
  assert.deepEqual([...text.matchAll(/>Item (\d)</g)].map((m) => m[1]), ['5', '4', '3'])
  assert.match(text, /^id: [a-z0-9]+-5\nevent: wire\ndata: /)
  stop()
  await bus.publish('wire', { title: 'After stop' })
  assert.doesNotMatch(tiles.renderBody('wire'), /After stop/)
})
