import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createParser, type EventSourceMessage } from 'eventsource-parser'
import { commentFrame, controlFrame, encodeFrameText, httpChunk, joinAsChunk, retryFrame } from '../../src/sse/frame.ts'
import { Recorder, publish, startApp } from '../helper.ts'

/** Parses bytes with the parser the `eventsource` client itself uses. */
function parse (text: string): { events: EventSourceMessage[], retries: number[] } {
  const events: EventSourceMessage[] = []
  const retries: number[] = []
  const parser = createParser({ onEvent: (e) => events.push(e), onRetry: (ms) => retries.push(ms) })
  parser.feed(text)
  return { events, retries }
}

test('multi-line data becomes one data: line per line and comes back joined with LF', () => {
  const text = encodeFrameText('t', 'one\ntwo\r\nthree\rfour\n', 'e-1')
  assert.equal(text, 'id: e-1\nevent: t\ndata: one\ndata: two\ndata: three\ndata: four\ndata: \n\n')
  assert.deepEqual(parse(text).events, [{ id: 'e-1', event: 't', data: 'one\ntwo\nthree\nfour\n' }])
})

test('empty data and data with leading spaces survive', () => {
  assert.deepEqual(parse(encodeFrameText('t', '')).events, [{ id: undefined, event: 't', data: '' }])
  assert.equal(parse(encodeFrameText('t', '  indented')).events[0]?.data, '  indented')
})

test('id and event values that would inject fields are refused', () => {
  assert.throws(() => encodeFrameText('t\nevent: x', 'd'), TypeError)
  assert.throws(() => encodeFrameText('t', 'd', 'id\rdata: x'), TypeError)
  assert.throws(() => encodeFrameText('t', 'd', 'a\0b'), TypeError)
  assert.throws(() => commentFrame('a\nb'), TypeError)
})

test('control, retry and comment frames', () => {
  assert.deepEqual(parse(controlFrame('reset', { topics: ['a'] }).toString()).events,
    [{ id: undefined, event: 'reset', data: '{"topics":["a"]}' }])
  assert.deepEqual(parse(retryFrame(1500).toString()).retries, [1500])
  assert.throws(() => retryFrame(1.5), RangeError)
  assert.deepEqual(parse(commentFrame('hi').toString()).events, [])
})

test('payloads round-trip exactly through the real client', async (t) => {
  const { url } = await startApp(t, { topics: { p: {} }, server: { bodyLimitBytes: 1024 * 1024 } })
  const big = { rows: Array.from({ length: 2000 }, (_, i) => ({ i, label: `row ${i}`, ok: i % 2 === 0 })) }
  const payloads: unknown[] = [
    'line one\nline two', 'carriage\rreturn', 'crlf\r\nend', '\n\n', '', ' ', 'unicode: é ü 日本 🚀 \u2028 \u2029 \u0000',
    { nested: { text: 'a\nb', list: [1, 'two', null, true] } }, 0, -1.5e-7, null, false, [], {},
    'data: fake\n\nevent: reset\nid: 1', big
  ]
  const client = new Recorder(t, `${url}/topics/p/stream`, ['p'])
  await client.opened()
  for (const payload of payloads) await publish(url, 'p', payload)
  const got = await client.count(payloads.length)
  assert.deepEqual(got.map((e) => JSON.parse(e.data) as unknown), payloads)
  assert.equal(got.filter((e) => e.type !== 'p').length, 0)
})

test('httpChunk and joinAsChunk frame bytes as one HTTP/1.1 chunk', () => {
  const a = Buffer.from('event: a\ndata: 1\n\n')
  const b = Buffer.from('event: b\ndata: ' + 'x'.repeat(300) + '\n\n')
  const both = Buffer.concat([a, b])
  const expected = `${both.length.toString(16)}\r\n${both.toString()}\r\n`
  assert.equal(httpChunk(both).toString(), expected)
  assert.equal(httpChunk(both), httpChunk(both), 'built once per buffer')
  const { bytes, chunk } = joinAsChunk([a, b])
  assert.equal(chunk.toString(), expected)
  assert.deepEqual(bytes, both)
})
