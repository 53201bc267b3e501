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
import { Recorder, publish, readStream, startApp, testConfig } from '../helper.ts'

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
  const overTime = new Dashboard(testConfig({ topics: { sales: { capacity: 500 } }, ui: { chartPoints: 60 }, dashboards: { main: { title: 'M', tiles: [{ topic: 'sales', kind: 'number', field: 'n', changeOverSeconds: 3600 }] } } }), new Eta({ views: VIEWS_DIR }))
  assert.equal(overTime.catalogue.keep('sales'), 500, 'a change over an hour keeps all the topic keeps, not a chart\'s worth')
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
  assert.equal(board.replayKey?.(temp), 'temps', 'a replay sends one event per group of topics')
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

test('a feed with a status tile of its own: its status reaches the feed tile\'s embed live, and a fresh dashboard stream gets each tile once', async (t) => {
  const { url } = await startApp(t, {
    topics: { wire: {}, 'wire.status': {} },
    dashboards: { main: { title: 'M', tiles: [{ topic: 'wire', kind: 'feed' }, { topic: 'wire.status', kind: 'status', field: 'state', states: { ok: 'ok', error: 'critical' } }] } }
  })
  const embed = new Recorder(t, `${url}/topics/wire/stream?format=html`, ['wire'])
  await embed.opened()
  await publish(url, 'wire', { title: 'First', link: 'https://example.com/1' })
  const last = await publish(url, 'wire.status', { feed: 'Wire', state: 'error', reason: 'HTTP 500' })
  const frames = await embed.count(2)
  assert.match(frames[1]?.data ?? '', /Wire could not be fetched \(HTTP 500\)/, 'the feed tile shows its status live')
  assert.equal(frames[1]?.id, last)
  await publish(url, 'wire', { title: 'Second', link: 'https://example.com/2' })
  const id = await publish(url, 'wire', { title: 'Third', link: 'https://example.com/3' })
  const { text } = await readStream(`${url}/stream?dashboard=main`, (s) => s.includes(`id: ${id}`))
  assert.deepEqual([...text.matchAll(/^event: (.+)$/gm)].map((m) => m[1]).sort(), ['tile-0', 'tile-1'], 'each tile once')
  assert.match(text, /Third[\s\S]*could not be fetched|could not be fetched[\s\S]*Third/)
})
