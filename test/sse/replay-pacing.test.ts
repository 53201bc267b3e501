/**
 * A replay is paced, never cut for its own size: `sse.maxQueuedBytes` bounds what a reader fails
 * to take, not what the server chose to send at once. And a reset leaves the client a cursor.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { Socket } from 'node:net'
import { createParser } from 'eventsource-parser'
import { CuttableProxy, RawConnection, Recorder, dechunk, publish, rawGet, readStream, waitUntil, forEachWriter } from '../helper.ts'

const EVENT_BYTES = 60 * 1024
const big = (i: number): string => `${i}:`.padEnd(EVENT_BYTES, 'x')
const idsIn = (text: string): string[] => [...text.matchAll(/^id: (.+)$/gm)].map((m) => m[1] as string)

forEachWriter((writer, startApp) => {
  test(`a replay larger than sse.maxQueuedBytes reaches a reader that reads [${writer}]`, async (t) => {
    const { app, url } = await startApp(t, { topics: { t: { capacity: 100 } }, sse: { maxQueuedBytes: 1024 * 1024 } })
    const ids: string[] = []
    for (let i = 0; i < 20; i++) ids.push((await app.ticker.bus.publish('t', big(i))).id)
    for (let attempt = 0; attempt < 3; attempt++) {
      const { text } = await readStream(`${url}/stream?topics=t&lastEventId=${app.ticker.bus.epoch}-0`, (s) => s.includes(`id: ${ids[19]}\n`))
      assert.deepEqual(idsIn(text), ids)
    }
    assert.equal(app.ticker.hub.stats().closed.slow, 0)
  })

  test(`a fresh stream whose latest events together pass sse.maxQueuedBytes gets them all [${writer}]`, async (t) => {
    const names = Array.from({ length: 20 }, (_, i) => `t${i}`)
    const { app, url } = await startApp(t, { topics: Object.fromEntries(names.map((n) => [n, {}])), sse: { maxQueuedBytes: 1024 * 1024 } })
    const ids: string[] = []
    for (const [i, name] of names.entries()) ids.push((await app.ticker.bus.publish(name, big(i))).id)
    const { text } = await readStream(`${url}/stream?topics=${names.join(',')}`, (s) => s.includes(`id: ${ids[19]}\n`))
    assert.deepEqual(idsIn(text), ids)
  })

  test(`a reader cut off as slow resumes from its last ID while its backlog is still buffered [${writer}]`, async (t) => {
    const maxQueuedBytes = 256 * 1024
    const { app, url, port } = await startApp(t, { topics: { busy: { capacity: 5000 } }, sse: { maxQueuedBytes } })
    const conn = await RawConnection.open(t, port)
    conn.send(rawGet('/topics/busy/stream'))
    await conn.received('retry:')
    conn.socket.pause() // stops reading: what is sent piles up in the kernel, then in Node
    const ids: string[] = []
    const chunk = 'y'.repeat(4096)
    while (app.ticker.hub.stats().closed.slow === 0) {
      assert.ok(ids.length < 5000, 'the stopped reader was never cut off')
      ids.push((await app.ticker.bus.publish('busy', { n: ids.length, chunk })).id)
    }
    // The topic stays busy while the reader is away.
    for (let i = 0; i < 2 * maxQueuedBytes / chunk.length; i++) ids.push((await app.ticker.bus.publish('busy', { n: ids.length, chunk })).id)
    // The reader reads what reached it before the cut, then resumes from the last whole event.
    conn.socket.resume()
    await conn.whenClosed()
    const got: string[] = []
    const parser = createParser({ onEvent: (e) => { if (e.id !== undefined) got.push(e.id) } })
    parser.feed(dechunk(conn.text.slice(conn.text.indexOf('\r\n\r\n') + 4)))
    const last = got.at(-1) ?? `${app.ticker.bus.epoch}-0`
    const rest = ids.slice(ids.indexOf(last) + 1)
    assert.ok(rest.length * chunk.length > maxQueuedBytes, `the backlog to resume is larger than the limit (published ${ids.length}, received ${got.length})`)
    const { text } = await readStream(`${url}/topics/busy/stream?lastEventId=${last}`, (s) => s.includes(`id: ${ids.at(-1)}\n`), {}, 20_000)
    assert.deepEqual(idsIn(text), rest)
  })

  test(`a reset after which no event follows gives the client a cursor to resume from [${writer}]`, async (t) => {
    const { url, port } = await startApp(t, { topics: { quiet: {} } })
    const proxy = await CuttableProxy.start(t, port)
    const client = new Recorder(t, `${proxy.url}/topics/quiet/stream?lastEventId=zz0ld3p0ch-17`, ['quiet'])
    const [reset] = await client.count(1)
    assert.equal(reset?.type, 'reset')
    assert.deepEqual(JSON.parse(reset?.data ?? ''), { topics: ['quiet'], reason: 'other-epoch' })
    assert.match(reset?.id ?? '', /^[a-z0-9]+-0$/, 'the reset carries the cursor of the bus')
    proxy.cut() // the client reconnects with Last-Event-ID: the reset's ID
    await client.opened(2)
    const id = await publish(url, 'quiet', 'first') // a second reset would come before it
    assert.deepEqual((await client.count(2)).map((e) => [e.type, e.id]), [['reset', reset?.id], ['quiet', id]])
  })

  test(`a reader that stalls in a long replay holds about one slice of it, not the whole history [${writer}]`, async (t) => {
    const { app, port } = await startApp(t, { topics: { deep: { capacity: 700 } }, server: { bodyLimitBytes: 128 * 1024 }, sse: { maxConnectionsPerIp: 10 } })
    for (let i = 0; i < 700; i++) await app.ticker.bus.publish('deep', big(i))
    const history = 700 * EVENT_BYTES
    const serverSockets: Socket[] = []
    app.server.on('connection', (socket: Socket) => serverSockets.push(socket))
    const before = process.memoryUsage().arrayBuffers
    const readers = 5
    for (let i = 0; i < readers; i++) {
      const conn = await RawConnection.open(t, port)
      conn.socket.pause() // takes what the kernel holds, then nothing more
      conn.send(rawGet(`/topics/deep/stream?lastEventId=${app.ticker.bus.epoch}-0`))
    }
    // Each connection is stalled once Node holds bytes the kernel would not take.
    await waitUntil(() => serverSockets.length === readers && serverSockets.every((s) => s.writableLength > 0), 20_000, 'every reader stalled')
    const held = process.memoryUsage().arrayBuffers - before
    // The frames themselves (about one history, shared) plus what went to the kernels; a copy of
    // the history per reader would be five more.
    assert.ok(held < 3 * history, `held ${(held / 2 ** 20).toFixed(0)} MB for ${readers} stalled readers of a ${(history / 2 ** 20).toFixed(0)} MB history`)
    assert.equal(app.ticker.hub.size, readers)
  })

  test(`one write bigger than sse.maxQueuedBytes does not cut a reader that reads [${writer}]`, async (t) => {
    const { app, url } = await startApp(t, { topics: { t: {} }, sse: { maxQueuedBytes: 1024 * 1024 } })
    const huge = 'z'.repeat(16 * 1024 * 1024) // more than the kernel's socket buffers take at once
    const received = readStream(`${url}/topics/t/stream`, (s) => s.includes('"end"'), {}, 30_000)
    await waitUntil(() => app.ticker.hub.size === 1, 5000, 'the stream')
    await app.ticker.bus.publish('t', huge)
    await app.ticker.bus.publish('t', 'end')
    const { text } = await received
    assert.ok(text.length > huge.length, 'the whole event arrived')
    assert.equal(app.ticker.hub.stats().closed.slow, 0)
  })

  test(`events published during a paced replay follow it, each once, in order [${writer}]`, async (t) => {
    const { app, port } = await startApp(t, { topics: { t: { capacity: 200 } }, server: { bodyLimitBytes: 128 * 1024 } })
    const ids: string[] = []
    for (let i = 0; i < 150; i++) ids.push((await app.ticker.bus.publish('t', big(i))).id) // ≈ 9 MB
    const serverSockets: Socket[] = []
    app.server.on('connection', (socket: Socket) => serverSockets.push(socket))
    const conn = await RawConnection.open(t, port)
    conn.socket.pause() // the replay stalls once the kernel's buffers are full
    conn.send(rawGet(`/topics/t/stream?lastEventId=${app.ticker.bus.epoch}-0`))
    await waitUntil(() => serverSockets[0] !== undefined && serverSockets[0].writableLength > 0, 10_000, 'the replay to stall')
    for (let i = 0; i < 30; i++) ids.push((await app.ticker.bus.publish('t', { live: i })).id)
    assert.ok(app.ticker.hub.stats().eventsDelivered < 150, 'the live events came while the replay was under way')
    conn.socket.resume()
    await conn.received(`id: ${ids.at(-1)}\n`, 30_000)
    const last = (await app.ticker.bus.publish('t', 'last')).id // anything sent twice would show before it
    await conn.received(`id: ${last}\n`)
    assert.deepEqual(idsIn(dechunk(conn.text.slice(conn.text.indexOf('\r\n\r\n') + 4))), [...ids, last])
  })
})
