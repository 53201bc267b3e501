/**
 * The dashboard part: tiles from config, their kinds inferred from producers, the events they
 * keep, and html frames rendered once per event, whichever listener saw the event first.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Eta } from 'eta'
import { MemoryBus } from '../../src/bus/memory-bus.ts'
import { topicRulesFrom } from '../../src/bus/topics.ts'
import { VIEWS_DIR } from '../../src/http/plugins/web.ts'
import { Dashboard } from '../../src/dashboard/index.ts'
import { testConfig } from '../helper.ts'

const config = testConfig({
  topics: { wire: {}, 'wire.status': {}, temps: {} },
  producers: { feeds: [{ name: 'w', url: 'http://127.0.0.1:9/feed', topic: 'wire', enabled: true }] },
  ui: { feedItems: 3, chartPoints: 4 },
  dashboards: {
    main: {
      title: 'Main',
      tiles: [
        { topic: 'temps', kind: 'number', field: 'c', unit: '°C' },
        { topic: 'temps', kind: 'chart', fields: ['c'] },
        { topic: 'wire' }
      ]
    }
  }
})

test('tiles: kinds are inferred from producers, a feed tile follows its status topic, a topic\'s own tile is the first a dashboard shows', () => {
  const { catalogue } = new Dashboard(config, new Eta({ views: VIEWS_DIR }))
  const wire = catalogue.ofTopic('wire')
  assert.deepEqual([wire.id, wire.kind, wire.topics], ['wire', 'feed', ['wire', 'wire.status']])
  assert.equal(catalogue.ofTopic('wire.status'), wire, 'the status topic is shown by the feed tile')
  assert.equal(catalogue.ofTopic('temps').kind, 'number')
  assert.equal(catalogue.ofTopic('clock').kind, 'generic', 'the clock producer is off in this config')
  assert.deepEqual(catalogue.dashboard('main')?.map((t) => [t.id, t.kind]), [['tile-0', 'number'], ['tile-1', 'chart'], ['tile-2', 'feed']])
  assert.equal(catalogue.dashboard('constructor'), undefined)
  assert.deepEqual([catalogue.keep('temps'), catalogue.keep('wire'), catalogue.keep('wire.status')], [4, 3, 1], 'what the most demanding tile needs')
})

test('tiles: a frame is rendered once per event, carries every tile the event changes, and the feed keeps only what it shows', async () => {
  const bus = new MemoryBus(topicRulesFrom(config))
  const dashboard = new Dashboard(config, new Eta({ views: VIEWS_DIR }))
  const stop = dashboard.follow(bus, (err) => { throw err })
  await dashboard.filled
  for (let i = 1; i <= 5; i++) await bus.publish('wire', { title: `Item ${i}`, link: `https://example.com/${i}` })
  const last = await bus.latest('wire')
  assert.ok(last)
  const html = dashboard.htmlFormat
  const frame = html.frame(last)
  assert.equal(html.frame(last), frame, 'the same bytes, not a second render')
  const text = frame.toString()
  assert.deepEqual([...text.matchAll(/>Item (\d)</g)].map((m) => m[1]), ['5', '4', '3'])
  assert.match(text, /^id: [a-z0-9]+-5\nevent: wire\ndata: /)

  const temp = await bus.publish('temps', { c: 21.5 })
  const board = dashboard.dashboardFormat('main')
  assert.ok(board)
  const both = board.frame(temp).toString()
  assert.deepEqual([...both.matchAll(/^event: (.+)$/gm)].map((m) => m[1]), ['tile-0', 'tile-1'], 'one SSE event per tile the topic changes')
  assert.match(both, /21.5 °C/)
  assert.equal(board.replayKey?.(temp), 'tile-0 tile-1')
  stop()
  await bus.publish('wire', { title: 'After stop' })
  assert.doesNotMatch(dashboard.renderBody(dashboard.catalogue.ofTopic('wire')), /After stop/)
})

test('tiles: the order listeners run in does not matter; an event rendered before the store saw it is applied first, once', async () => {
  const bus = new MemoryBus(topicRulesFrom(config))
  const dashboard = new Dashboard(config, new Eta({ views: VIEWS_DIR }))
  const frames: string[] = []
  // A stream format that hears the bus before the store does.
  bus.subscribe((event) => { if (event.topic === 'temps') frames.push(dashboard.htmlFormat.frame(event).toString()) })
  const stop = dashboard.follow(bus, (err) => { throw err })
  await dashboard.filled
  await bus.publish('temps', { c: 1 })
  await bus.publish('temps', { c: 2 })
  assert.match(frames[0] ?? '', />1 °C</)
  assert.match(frames[1] ?? '', />2 °C</)
  assert.match(frames[1] ?? '', /▲<\/span> \+1 °C/, 'the change counts each event once')
  stop()
})
