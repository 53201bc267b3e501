import { test } from 'node:test'
import assert from 'node:assert/strict'
import { connect } from 'node:net'
import { once } from 'node:events'
import { readStream, startApp, waitUntil } from '../helper.ts'

/** Fails the test if `promise` has not settled within `ms` (a bound, not a timing assertion). */
async function within<T> (promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_resolve, reject) => { timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms) })
  try {
    return await Promise.race([promise, timeout])
  } finally {
    clearTimeout(timer)
  }
}

test('close() ends open streams and does not wait on sockets that never sent a request', async (t) => {
  const { app, url, port } = await startApp(t)
  const silent = connect(port, '127.0.0.1') // like a browser's preconnect: connected, says nothing
  t.after(() => silent.destroy())
  await once(silent, 'connect')
  const stream = readStream(`${url}/stream`, () => false, {}, 20_000)
  await waitUntil(() => app.ticker.hub.size === 1, 5000, 'the stream to open')

  await within(app.close(), 10_000, 'app.close()')
  const { text } = await stream
  assert.match(text, /: server shutting down\n\n$/)
  assert.equal(app.ticker.hub.size, 0)
})

test('close() does not wait on a stream whose client neither reads nor closes', async (t) => {
  const { app, port } = await startApp(t)
  const stuck = connect({ port, host: '127.0.0.1', allowHalfOpen: true })
  t.after(() => stuck.destroy())
  await once(stuck, 'connect')
  stuck.write('GET /stream HTTP/1.1\r\nHost: test\r\nAccept: text/event-stream\r\n\r\n')
  await waitUntil(() => app.ticker.hub.size === 1, 5000, 'the stream to open')
  stuck.pause() // reads nothing more, and never ends its side
  await within(app.close(), 10_000, 'app.close()')
  const ended = once(stuck, 'end')
  stuck.resume()
  await within(ended, 5000, 'the server to end the connection')
})
