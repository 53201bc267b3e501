import { test } from 'node:test'
import assert from 'node:assert/strict'
import { connect } from 'node:net'
import { once } from 'node:events'
import { Recorder, logCapture, waitUntil, forEachWriter } from '../helper.ts'

forEachWriter((writer, startApp) => {
  test(`over the total limit: 503 with Retry-After and a JSON error [${writer}]`, async (t) => {
    const { url } = await startApp(t, { sse: { maxConnections: 2 } })
    const one = new Recorder(t, `${url}/topics/clock/stream`, [])
    const two = new Recorder(t, `${url}/topics/clock/stream`, [])
    await Promise.all([one.opened(), two.opened()])
    const res = await fetch(`${url}/stream`)
    assert.equal(res.status, 503)
    assert.equal(res.headers.get('retry-after'), '5')
    assert.deepEqual(await res.json(), { code: 'TICKER_ERR_TOO_MANY_CONNECTIONS', message: 'The server has reached its limit of open streams; retry later' })
    const metrics = await (await fetch(`${url}/metrics`)).text()
    assert.match(metrics, /^ticker_sse_connections_refused_total\{limit="total"\} 1$/m)
    assert.match(metrics, /^ticker_sse_connections_closed_total\{reason="limit"\} 1$/m)

    one.source.close() // a slot frees up when a client leaves
    await waitUntil(async () => {
      const retry = await fetch(`${url}/topics/clock/stream`)
      await retry.body?.cancel()
      return retry.status === 200
    }, 5000, 'a free slot')
  })

  test(`over the per-client limit: 429 with Retry-After [${writer}]`, async (t) => {
    const { url } = await startApp(t, { sse: { maxConnectionsPerIp: 1 } })
    const one = new Recorder(t, `${url}/stream`, [])
    await one.opened()
    const res = await fetch(`${url}/topics/news/stream`)
    assert.equal(res.status, 429)
    assert.equal(res.headers.get('retry-after'), '5')
    assert.equal((await res.json() as { code: string }).code, 'TICKER_ERR_TOO_MANY_CONNECTIONS_FROM_CLIENT')
  })

  test(`too many topics on one stream is a 400 [${writer}]`, async (t) => {
    const { url } = await startApp(t)
    const res = await fetch(`${url}/stream?topics=${Array.from({ length: 300 }, (_, i) => `t${i}`).join(',')}`)
    assert.equal(res.status, 400)
    assert.match((await res.json() as { message: string }).message, /at most 256 topics/)
  })

  test(`a reader that never reads is disconnected; the server stays responsive [${writer}]`, async (t) => {
    const logs = logCapture()
    const { url, port, app } = await startApp(t, { topics: { firehose: { capacity: 10 } }, sse: { maxQueuedBytes: 256 * 1024 }, log: { level: 'warn' } }, { logStream: logs.stream })
    const socket = connect(port, '127.0.0.1')
    t.after(() => socket.destroy())
    socket.on('error', () => {}) // the server resets it; that is the point
    await once(socket, 'connect')
    socket.write('GET /topics/firehose/stream HTTP/1.1\r\nHost: x\r\n\r\n')
    socket.pause() // and never read again
    const subscribers = async (): Promise<number | undefined> => {
      const body = await (await fetch(`${url}/topics`)).json() as { topics: Array<{ name: string, subscribers: number }> }
      return body.topics.find((t) => t.name === 'firehose')?.subscribers
    }
    await waitUntil(async () => (await subscribers()) === 1, 5000, 'the slow reader to subscribe')

    const chunk = 'x'.repeat(64 * 1024)
    let published = 0
    while (app.ticker.hub.subscribers('firehose') > 0) {
      assert.ok(published < 2000, 'the slow reader was never cut off (128 MB sent)')
      await app.ticker.bus.publish('firehose', chunk)
      published++
    }
    assert.equal(app.ticker.hub.stats().closed.slow, 1)
    const drop = logs.lines.find((l) => l.msg === 'disconnecting a slow SSE reader')
    assert.deepEqual(drop?.topics, ['firehose'], 'the drop is logged with its topics')
    assert.equal(await subscribers(), 0)
    assert.equal((await fetch(`${url}/healthz`)).status, 200)
  })
})
