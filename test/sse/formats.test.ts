/**
 * One event that a format cannot frame costs nothing to other formats, other events or other
 * subscribers: the failure is logged and counted, and that format's streams skip the event.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { pino } from 'pino'
import { MemoryBus } from '../../src/bus/memory-bus.ts'
import { topicRulesFrom } from '../../src/bus/topics.ts'
import { encodeFrameText } from '../../src/sse/frame.ts'
import { jsonFormat, type StreamFormat } from '../../src/sse/formats.ts'
import { SseHub } from '../../src/sse/hub.ts'
import { socketChunkWriter } from '../../src/sse/writers/index.ts'
import { logCapture, readStream, testConfig, waitUntil } from '../helper.ts'

/** Frames `{"fail": true}` payloads by throwing, like a renderer that cannot render them. */
const fragile: StreamFormat = {
  name: 'fragile',
  frame (event) {
    if ((event.data as { fail?: boolean }).fail === true) throw new Error('cannot render this one')
    return Buffer.from(encodeFrameText(event.topic, `rendered ${event.json}`, event.id))
  }
}

test('an event one format cannot frame is skipped by that format only; the next one gets through', async (t) => {
  const bus = new MemoryBus(topicRulesFrom(testConfig({ topics: { t: {}, u: {} } })))
  const logs = logCapture()
  const hub = new SseHub({
    bus,
    log: pino({ level: 'error' }, logs.stream),
    writer: socketChunkWriter,
    formats: new Map([['json', jsonFormat], ['fragile', fragile]]),
    retryMs: 100,
    heartbeatMs: 60_000,
    maxQueuedBytes: 1024 * 1024,
    maxConnections: 10,
    maxConnectionsPerIp: 10,
    flushIntervalMs: 0
  })
  const server = createServer((req, res) => {
    const format = req.url?.startsWith('/fragile') === true ? fragile : jsonFormat
    const lastId = req.headers['last-event-id'] as string | undefined
    // /fragile-both follows a second topic: another group of the same format.
    const topics = req.url === '/fragile-both' ? ['t', 'u'] : ['t']
    hub.open(res, { ip: '127.0.0.1', topics, lastId, format, headers: { 'content-type': 'text/event-stream' } }).catch(() => res.destroy())
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.after(() => { hub.close(); hub.destroyEnded(); server.closeAllConnections(); server.close() })
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`

  const ids: string[] = []
  const json = readStream(`${url}/json`, (s) => s.includes(`id: ${ids[2]}\n`))
  const rendered = readStream(`${url}/fragile`, (s) => s.includes(`id: ${ids[2]}\n`))
  const renderedToo = readStream(`${url}/fragile-both`, (s) => s.includes(`id: ${ids[2]}\n`))
  await waitUntil(() => hub.size === 3, 5000, 'the three streams')
  for (const data of [{ n: 1 }, { fail: true }, { n: 3 }]) ids.push((await bus.publish('t', data)).id)

  const jsonText = (await json).text
  const renderedText = (await rendered).text
  assert.deepEqual([...jsonText.matchAll(/^id: (.+)$/gm)].map((m) => m[1]), ids, 'json streams get every event')
  assert.deepEqual([...renderedText.matchAll(/^id: (.+)$/gm)].map((m) => m[1]), [ids[0], ids[2]], 'the failing event is skipped')
  assert.match(renderedText, /data: rendered \{"n":3\}/)
  const tooText = (await renderedToo).text
  assert.deepEqual([...tooText.matchAll(/^id: (.+)$/gm)].map((m) => m[1]), [ids[0], ids[2]], tooText)
  assert.equal(hub.stats().frameFailures, 1)
  const logged = logs.lines.filter((l) => l.msg === 'an event could not be framed; streams of this format skip it')
  assert.equal(logged.length, 1)
  assert.deepEqual([logged[0]?.format, logged[0]?.topic, logged[0]?.id], ['fragile', 't', ids[1]])

  // A stream resuming across the failing event gets the others too.
  const resumed = await readStream(`${url}/fragile`, (s) => s.includes(`id: ${ids[2]}\n`), { headers: { 'last-event-id': `${bus.epoch}-0` } })
  assert.deepEqual([...resumed.text.matchAll(/^id: (.+)$/gm)].map((m) => m[1]), [ids[0], ids[2]])
  assert.equal(hub.stats().frameFailures, 1, 'a failure is counted and logged once per event and format')
})
