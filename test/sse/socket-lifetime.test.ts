/**
 * A stream session exists only while its socket does. Streams opened by pipelining, by HEAD and
 * by clients that go away at every stage leave no session and no connection slot behind.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { RawConnection, StreamTap, TOKEN, publish, rawGet, waitUntil, forEachWriter } from '../helper.ts'
import { MAX_WAITING } from '../../src/http/server.ts'
import { sample, scrape } from '../metrics/scrape.ts'

const TOPICS = { topics: { t: {}, big: { capacity: 50 } } }

const openStreams = async (url: string): Promise<number> => {
  const value = sample(await scrape(url), 'ticker_sse_open_streams')
  assert.ok(value !== undefined, 'ticker_sse_open_streams is exported')
  return value
}

forEachWriter((writer, startApp) => {
  test(`pipelined stream requests on one connection: one session, gone with its socket [${writer}]`, async (t) => {
    const { app, url, port } = await startApp(t, { ...TOPICS, sse: { maxConnectionsPerIp: 200 } })
    const conn = await RawConnection.open(t, port)
    conn.send(rawGet('/stream?topics=t').repeat(MAX_WAITING))
    await conn.received('text/event-stream')
    const id = await publish(url, 't', 'after the pipeline')
    await conn.received(`id: ${id}\n`)
    assert.equal(app.ticker.hub.size, 1, 'only the request at the head of the connection is a stream')
    conn.socket.destroy()
    await waitUntil(() => app.ticker.hub.size === 0, 5000, 'no session once the socket is gone')
    assert.equal(await openStreams(url), 0)
  })

  test(`a connection with more requests waiting than MAX_WAITING is closed, and holds nothing [${writer}]`, async (t) => {
    const { app, url, port } = await startApp(t, { ...TOPICS, sse: { maxConnectionsPerIp: 200 } })
    const conn = await RawConnection.open(t, port)
    conn.send(rawGet('/stream?topics=t').repeat(100))
    await conn.whenClosed()
    await waitUntil(() => app.ticker.hub.size === 0, 5000, 'no session')
    assert.equal(await openStreams(url), 0)
  })

  test(`a request pipelined behind a stream is never executed [${writer}]`, async (t) => {
    const { app, url, port } = await startApp(t, TOPICS)
    const conn = await RawConnection.open(t, port)
    const body = JSON.stringify({ data: 'smuggled' })
    conn.send(rawGet('/stream?topics=t') +
      `POST /topics/t/events HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer ${TOKEN}\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`)
    await conn.received('text/event-stream')
    const id = await publish(url, 't', 'marker')
    await conn.received(`id: ${id}\n`)
    assert.doesNotMatch(conn.text, /smuggled/)
    const history = await (await fetch(`${url}/topics/t/events`)).json() as { events: Array<{ data: unknown }> }
    assert.deepEqual(history.events.map((e) => e.data), ['marker'])
    assert.equal(conn.text.split('HTTP/1.1 ').length - 1, 1, 'one response head on the connection')
    assert.equal(app.ticker.hub.size, 1)
  })

  test(`requests pipelined behind ordinary requests are still answered, in order [${writer}]`, async (t) => {
    const { port } = await startApp(t, TOPICS)
    const conn = await RawConnection.open(t, port)
    conn.send(rawGet('/healthz') + rawGet('/topics/t/events') + rawGet('/healthz'))
    await waitUntil(() => conn.text.split('HTTP/1.1 200').length - 1 === 3, 5000, 'three answers')
    assert.match(conn.text, /"status":"ok"[\s\S]*"topic":"t"[\s\S]*"status":"ok"/)
  })

  test(`HEAD on a stream route answers the head and ends; no stream is opened [${writer}]`, async (t) => {
    const { app, port } = await startApp(t, TOPICS)
    for (const path of ['/stream?topics=t', '/topics/t/stream']) {
      const conn = await RawConnection.open(t, port)
      conn.send(`HEAD ${path} HTTP/1.1\r\nHost: test\r\n\r\n` + rawGet('/healthz'))
      // The connection goes on to the next request only once the HEAD response has ended.
      await conn.received('"status":"ok"')
      assert.match(conn.text, /^HTTP\/1\.1 200 OK\r\n/)
      assert.match(conn.text, /content-type: text\/event-stream; charset=utf-8\r\n/i)
      assert.doesNotMatch(conn.text, /retry:/)
      assert.equal(app.ticker.hub.size, 0)
      conn.socket.destroy()
    }
    const res = await fetch(`http://127.0.0.1:${port}/topics/nope/stream`, { method: 'HEAD' })
    assert.equal(res.status, 404, 'HEAD checks the topic like GET does')
  })

  test(`streams aborted at every stage leave no session and no slot behind [${writer}]`, async (t) => {
    const { app, url, port } = await startApp(t, { ...TOPICS, sse: { maxConnectionsPerIp: 3, maxQueuedBytes: 64 * 1024 } })
    const hub = app.ticker.hub
    for (let i = 0; i < 40; i++) await app.ticker.bus.publish('big', 'x'.repeat(8 * 1024))

    // 1. Part of a request line, then gone.
    const partial = await RawConnection.open(t, port)
    partial.send('GET /stream?top')
    partial.socket.destroy()
    // 2. A whole request, gone before any answer could come.
    for (let i = 0; i < 5; i++) {
      const early = await RawConnection.open(t, port)
      early.send(rawGet('/stream?topics=t'))
      early.socket.destroy()
    }
    // 3. Gone after the head.
    const afterHead = await RawConnection.open(t, port)
    afterHead.send(rawGet('/topics/t/stream'))
    await afterHead.received('retry:')
    afterHead.socket.destroy()
    // 4. Gone in the middle of a replay larger than the socket takes at once.
    const midReplay = await RawConnection.open(t, port)
    midReplay.socket.pause()
    midReplay.send(rawGet(`/topics/big/stream?lastEventId=${app.ticker.bus.epoch}-0`))
    await waitUntil(() => hub.size === 1, 5000, 'the replaying stream')
    midReplay.socket.destroy()
    // 5. HEAD, and a pipeline, both gone.
    const head = await RawConnection.open(t, port)
    head.send('HEAD /stream HTTP/1.1\r\nHost: test\r\n\r\n')
    await head.received('\r\n\r\n')
    head.socket.destroy()
    const pipeline = await RawConnection.open(t, port)
    pipeline.send(rawGet('/stream?topics=t').repeat(10))
    await pipeline.received('retry:')
    pipeline.socket.destroy()

    await waitUntil(() => hub.size === 0, 5000, `every session gone (have ${hub.size})`)
    assert.equal(await openStreams(url), 0)
    // Every slot of this address is free again.
    const taps = await Promise.all([1, 2, 3].map(async () => StreamTap.open(t, `${url}/topics/t/stream`)))
    assert.equal(taps.length, 3)
    assert.equal(hub.size, 3)
  })

  test(`bytes a client sends after its stream started are dropped, never answered inside the stream [${writer}]`, async (t) => {
    const { app, port } = await startApp(t, TOPICS)
    const requests = [
      rawGet('/topics/t/stream'),
      'GET /topics/t/stream HTTP/1.0\r\nConnection: keep-alive\r\n\r\n',
      rawGet('/topics/t/stream', 'Connection: close\r\n')
    ]
    for (const request of requests) {
      const conn = await RawConnection.open(t, port)
      conn.send(request)
      await conn.received('retry:')
      await waitUntil(() => app.ticker.hub.size > 0, 5000, 'the stream')
      conn.send('GARBAGE\r\n\r\n')
      conn.send(rawGet('/healthz'))
      const id = (await app.ticker.bus.publish('t', 'after the junk')).id
      await conn.received(`id: ${id}\n`)
      assert.equal(conn.text.split('HTTP/1.').length - 1, 1, `one response head only: ${JSON.stringify(conn.text)}`)
      assert.doesNotMatch(conn.text, /TICKER_ERR|"status"/)
      assert.equal(conn.closed, false)
      conn.socket.destroy()
      await waitUntil(() => app.ticker.hub.size === 0, 5000, 'the stream to end')
    }
  })
})
