import { test } from 'node:test'
import assert from 'node:assert/strict'
import { CuttableProxy, Recorder, StreamTap, publish, readStream, waitUntil, forEachWriter } from '../helper.ts'

const TOPICS = { topics: { a: {}, b: {}, c: {}, small: { capacity: 3 } } }

forEachWriter((writer, startApp) => {
  test(`named events arrive, with an id on each, on one-topic and multiplexed streams [${writer}]`, async (t) => {
    const { url } = await startApp(t, TOPICS)
    const single = new Recorder(t, `${url}/topics/a/stream`, ['a', 'b'])
    const multi = new Recorder(t, `${url}/stream?topic=a&topic=b`, ['a', 'b', 'c'])
    await single.opened()
    await multi.opened()
    const id1 = await publish(url, 'a', { n: 1 })
    const id2 = await publish(url, 'b', { n: 2 })
    await publish(url, 'c', { n: 3 })
    const got = await multi.count(2)
    assert.deepEqual(got, [{ type: 'a', id: id1, data: '{"n":1}' }, { type: 'b', id: id2, data: '{"n":2}' }])
    assert.deepEqual(await single.count(1), [{ type: 'a', id: id1, data: '{"n":1}' }])
    await publish(url, 'a', 'sync') // a later event on a: if c leaked, it would have come before
    await multi.count(3)
    assert.equal(multi.of('c').length, 0)
  })

  test(`a fresh client first gets the latest event of each of its topics [${writer}]`, async (t) => {
    const { url } = await startApp(t, TOPICS)
    await publish(url, 'a', 1)
    const b = await publish(url, 'b', 2)
    const a = await publish(url, 'a', 3)
    const client = new Recorder(t, `${url}/stream?topics=a,b,c`, ['a', 'b', 'c'])
    assert.deepEqual((await client.count(2)).map((e) => e.id), [b, a])
  })

  test(`headers, retry and heartbeat on the wire [${writer}]`, async (t) => {
    const { url } = await startApp(t, { ...TOPICS, sse: { heartbeatMs: 30 } })
    const { res, text } = await readStream(`${url}/topics/a/stream`, (s) => s.includes(': heartbeat'))
    assert.equal(res.status, 200)
    assert.equal(res.headers.get('content-type'), 'text/event-stream; charset=utf-8')
    assert.equal(res.headers.get('cache-control'), 'no-cache, no-transform')
    assert.equal(res.headers.get('x-accel-buffering'), 'no')
    for (const page of ['content-security-policy', 'cross-origin-opener-policy', 'strict-transport-security', 'x-frame-options']) {
      assert.equal(res.headers.get(page), null, `page headers stay off streams: ${page}`)
    }
    assert.ok(text.startsWith('retry: 20\n\n'), text)
  })

  test(`the heartbeat goes to streams that got nothing lately, not to busy ones [${writer}]`, async (t) => {
    const { url, app } = await startApp(t, { ...TOPICS, sse: { heartbeatMs: 600 } })
    const busy = await StreamTap.open(t, `${url}/topics/a/stream`)
    const idle = await StreamTap.open(t, `${url}/topics/b/stream`)
    // Events on a, each as soon as the last one arrived, until b has had two heartbeats.
    const deadline = Date.now() + 10_000
    let sent = 0
    while (idle.comments < 2) {
      assert.ok(Date.now() < deadline, `two heartbeats on the idle stream (has ${idle.comments})`)
      await app.ticker.bus.publish('a', sent++)
      await busy.count(sent)
    }
    assert.equal(busy.comments, 0, 'no heartbeat on a stream that gets events')
    // Once a goes quiet, its stream gets heartbeats again.
    await waitUntil(() => busy.comments > 0, 5000, 'a heartbeat on the stream once its topic is quiet')
  })

  test(`a dropped multiplexed stream resumes with no loss and no duplicate [${writer}]`, async (t) => {
    const { url, port } = await startApp(t, TOPICS)
    const proxy = await CuttableProxy.start(t, port)
    const client = new Recorder(t, `${proxy.url}/stream?topic=a&topic=b&topic=c`, ['a', 'b', 'c'])
    await client.opened()
    const published: string[] = []
    const topics = ['a', 'b', 'c']
    for (let i = 0; i < 30; i++) published.push(await publish(url, topics[i % 3] as string, { i }))
    await client.count(30)

    proxy.block() // the client is cut off and cannot get back in
    await waitUntil(() => client.errors > 0, 5000, 'the client to notice')
    for (let i = 30; i < 60; i++) published.push(await publish(url, topics[i % 3] as string, { i }))
    proxy.unblock()
    await client.opened(2)
    for (let i = 60; i < 75; i++) published.push(await publish(url, topics[i % 3] as string, { i }))

    const got = await client.count(75)
    await publish(url, 'a', 'last') // anything duplicated would now show before this one
    await client.count(76)
    assert.deepEqual(client.events.slice(0, 75).map((e) => e.id), published)
    assert.deepEqual(client.events.slice(0, 75).map((e) => JSON.parse(e.data).i), Array.from({ length: 75 }, (_, i) => i))
    assert.equal(got.filter((e) => e.type === 'reset').length, 0)
  })

  test(`resuming after the missed events were evicted: reset, then the latest [${writer}]`, async (t) => {
    const { url, port } = await startApp(t, TOPICS)
    const proxy = await CuttableProxy.start(t, port)
    const client = new Recorder(t, `${proxy.url}/stream?topic=small&topic=a`, ['small', 'a'])
    await client.opened()
    await publish(url, 'small', 0)
    await client.count(1)

    proxy.block()
    await waitUntil(() => client.errors > 0, 5000, 'the client to notice')
    for (let i = 1; i <= 10; i++) await publish(url, 'small', i)
    const aId = await publish(url, 'a', 'kept')
    proxy.unblock()

    const got = await client.count(4)
    assert.equal(got[1]?.type, 'reset')
    assert.deepEqual(JSON.parse(got[1]?.data ?? ''), { topics: ['small'], reason: 'evicted' })
    assert.deepEqual(got.slice(2).map((e) => [e.type, e.data]), [['small', '10'], ['a', '"kept"']])
    assert.equal(got[3]?.id, aId)
  })

  test(`an ID from an earlier life of the server gets reset + latest [${writer}]`, async (t) => {
    const first = await startApp(t, TOPICS)
    const proxy = await CuttableProxy.start(t, first.port)
    const client = new Recorder(t, `${proxy.url}/stream?topic=a&topic=b`, ['a', 'b'])
    await client.opened()
    await publish(first.url, 'a', 'before restart')
    await client.count(1)

    proxy.block()
    await first.app.close()
    const second = await startApp(t, TOPICS)
    const latest = await publish(second.url, 'b', 'after restart')
    proxy.retarget(second.port)
    proxy.unblock()

    const got = await client.count(3)
    assert.equal(got[1]?.type, 'reset')
    assert.deepEqual(JSON.parse(got[1]?.data ?? ''), { topics: ['a', 'b'], reason: 'other-epoch' })
    assert.deepEqual(got[2], { type: 'b', id: latest, data: '"after restart"' })
  })

  test(`?lastEventId= resumes a new connection; Last-Event-ID wins over it [${writer}]`, async (t) => {
    const { url } = await startApp(t, TOPICS)
    const ids: string[] = []
    for (let i = 1; i <= 5; i++) ids.push(await publish(url, i % 2 === 0 ? 'a' : 'b', i))
    const client = new Recorder(t, `${url}/stream?topics=a,b&lastEventId=${ids[1]}`, ['a', 'b'])
    assert.deepEqual((await client.count(3)).map((e) => e.id), ids.slice(2))

    const { text } = await readStream(`${url}/stream?topics=a,b&lastEventId=${ids[0]}`,
      (s) => s.includes(`id: ${ids[4]}`), { headers: { 'last-event-id': ids[3] as string } })
    assert.ok(!text.includes(`id: ${ids[2]}`), 'the header cursor is used, not the query one')
  })

  test(`a malformed Last-Event-ID is answered with reset, not an error [${writer}]`, async (t) => {
    const { url } = await startApp(t, TOPICS)
    const id = await publish(url, 'a', 1)
    const hostile = 'x\r\nevent: a\r\ndata: pwned'
    const { res, text } = await readStream(`${url}/topics/a/stream`, (s) => s.includes(`id: ${id}`),
      { headers: { 'last-event-id': encodeURIComponent(hostile) } })
    assert.equal(res.status, 200)
    assert.match(text, /event: reset\ndata: \{"topics":\["a"\],"reason":"malformed-id"\}\n\n/)
    assert.ok(!text.includes('pwned'))
  })

  test(`streams resuming from the same point share one replay; other points, later events and resets still come right [${writer}]`, async (t) => {
    const { url, app } = await startApp(t, TOPICS)
    const ids: string[] = []
    const publishOne = async (): Promise<void> => { ids.push((await app.ticker.bus.publish(ids.length % 2 === 0 ? 'a' : 'b', ids.length)).id) }
    for (let i = 0; i < 6; i++) await publishOne()
    const resume = (from: string): Recorder => new Recorder(t, `${url}/stream?topics=a,b&lastEventId=${from}`, ['a', 'b'])
    const same = [resume(ids[1] as string), resume(ids[1] as string), resume(ids[1] as string)]
    const other = resume(ids[3] as string)
    for (const client of same) assert.deepEqual((await client.count(4)).map((e) => e.id), ids.slice(2))
    assert.deepEqual((await other.count(2)).map((e) => e.id), ids.slice(4))

    await publishOne()
    const later = resume(ids[1] as string)
    assert.deepEqual((await later.count(5)).map((e) => e.id), ids.slice(2))
    for (const client of [...same, later]) assert.deepEqual((await client.count(5)).map((e) => e.id), ids.slice(2))

    const broken = [resume('not-an-id'), resume('not-an-id')]
    for (const client of broken) {
      const got = await client.count(3)
      assert.deepEqual(got.map((e) => e.type), ['reset', 'b', 'a'])
      assert.deepEqual(got.slice(1).map((e) => e.id), ids.slice(-2))
    }
    await publishOne() // anything sent twice would now show before this one
    for (const client of [...same, later]) assert.deepEqual((await client.count(6)).map((e) => e.id), ids.slice(2))
    assert.deepEqual((await other.count(4)).map((e) => e.id), ids.slice(4))
  })
})
