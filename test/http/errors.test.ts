/**
 * Every way a request can fail answers `{code, message}`, whichever layer noticed, and no secret
 * from a URL reaches a log line.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { RawConnection, TOKEN, logCapture, startApp } from '../helper.ts'

/** The status and JSON body of the raw HTTP answer in `text`. */
function answer (text: string): { status: number, contentType: string | undefined, body: Record<string, unknown> } {
  const [head = '', body = ''] = text.split('\r\n\r\n')
  return {
    status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1]),
    contentType: /^content-type: (.+)$/im.exec(head)?.[1],
    body: JSON.parse(body) as Record<string, unknown>
  }
}

test("requests Node's parser rejects are answered {code, message}, and the connection closes", async (t) => {
  const { port } = await startApp(t)
  const cases: Array<[what: string, request: string, status: number, code: string]> = [
    ['headers too large', `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`, 431, 'TICKER_ERR_HEADERS_TOO_LARGE'],
    ['not HTTP', 'HELLO THERE\r\n\r\n', 400, 'TICKER_ERR_MALFORMED_REQUEST'],
    ['Content-Length and Transfer-Encoding together',
      'POST /topics/a/events HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 400, 'TICKER_ERR_MALFORMED_REQUEST']
  ]
  for (const [what, request, status, code] of cases) {
    const conn = await RawConnection.open(t, port)
    conn.send(request)
    await conn.whenClosed()
    const got = answer(conn.text)
    assert.equal(got.status, status, what)
    assert.match(got.contentType ?? '', /^application\/json/, what)
    assert.deepEqual(Object.keys(got.body), ['code', 'message'], what)
    assert.equal(got.body.code, code, what)
  }
})

test('a path that does not exist is a 404 before any body is read', async (t) => {
  const { url } = await startApp(t)
  for (const body of ['', '{"data": 1}', 'not json']) {
    const res = await fetch(`${url}/nope`, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
    assert.equal(res.status, 404, JSON.stringify(body))
    assert.deepEqual(await res.json(), { code: 'TICKER_ERR_NOT_FOUND', message: 'Route POST /nope does not exist' })
  }
})

test('a CORS preflight without Origin or a requested method is a 400 {code, message}; with CORS off, OPTIONS is a 404', async (t) => {
  const { url } = await startApp(t, { cors: { origins: ['http://good.example'] } })
  const incomplete: Array<Record<string, string>> = [{}, { origin: 'http://good.example' }, { 'access-control-request-method': 'GET' }]
  for (const headers of incomplete) {
    const res = await fetch(`${url}/topics`, { method: 'OPTIONS', headers })
    assert.equal(res.status, 400, JSON.stringify(headers))
    assert.equal((await res.json() as { code: string }).code, 'TICKER_ERR_PREFLIGHT')
  }
  const off = await startApp(t)
  const res = await fetch(`${off.url}/topics`, { method: 'OPTIONS' })
  assert.equal(res.status, 404)
  assert.equal((await res.json() as { code: string }).code, 'TICKER_ERR_NOT_FOUND')
  const ok = await fetch(`${url}/topics`, { method: 'OPTIONS', headers: { origin: 'http://good.example', 'access-control-request-method': 'GET' } })
  assert.equal(ok.status, 204)
  assert.equal(ok.headers.get('access-control-allow-origin'), 'http://good.example')
})

test('query parameters named like a token are redacted from every log line', async (t) => {
  const logs = logCapture()
  const { url } = await startApp(t, { log: { level: 'info', requests: true } }, { logStream: logs.stream })
  const secrets = ['s3cret-one', 's3cret-two', 's3cret-three', 's3cret-four']
  await fetch(`${url}/topics?token=${secrets[0]}&x=1&access_token=${secrets[1]}`)
  await fetch(`${url}/nope?publishToken=${secrets[2]}`)
  await fetch(`${url}/topics/news/events?Token=${secrets[3]}`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } })
  const text = logs.lines.map((l) => JSON.stringify(l)).join('\n')
  assert.match(text, /token=\[redacted\]&x=1&access_token=\[redacted\]/)
  for (const secret of secrets) assert.ok(!text.includes(secret), `${secret} is not logged`)
})

test('conditional and range requests for static files that cannot be met are 412 and 416, not 500s, and log no error', async (t) => {
  const logs = logCapture()
  const { url } = await startApp(t, { log: { level: 'warn' } }, { logStream: logs.stream })
  const cases: Array<[headers: Record<string, string>, status: number, code: string]> = [
    [{ range: 'bytes=999999-' }, 416, 'TICKER_ERR_RANGE_NOT_SATISFIABLE'],
    [{ 'if-match': '"nope"' }, 412, 'TICKER_ERR_PRECONDITION_FAILED'],
    [{ 'if-unmodified-since': 'Thu, 01 Jan 1970 00:00:00 GMT' }, 412, 'TICKER_ERR_PRECONDITION_FAILED']
  ]
  for (const [headers, status, code] of cases) {
    const res = await fetch(`${url}/static/js/dashboard.js`, { headers })
    assert.equal(res.status, status, JSON.stringify(headers))
    assert.equal((await res.json() as { code: string }).code, code)
  }
  assert.deepEqual(logs.lines.filter((l) => Number(l.level) >= 50), [], 'no error was logged')
})

test('a token parameter is redacted however its name is spelled in the URL', async (t) => {
  const logs = logCapture()
  const { url } = await startApp(t, { log: { level: 'info', requests: true }, topics: { a: {} } }, { logStream: logs.stream })
  await fetch(`${url}/topics/a/events?access_%74oken=hidden-one&%54OKEN=hidden-two&x=%74oken`)
  const text = logs.lines.map((l) => JSON.stringify(l)).join('\n')
  assert.ok(!text.includes('hidden-one') && !text.includes('hidden-two'), text)
  assert.match(text, /x=%74oken/, 'other parameters are left as they are')
})

test('what Node answers by itself is {code, message} too: no Host, an Expect it cannot meet, CONNECT', async (t) => {
  const { port } = await startApp(t)
  const cases: Array<[what: string, request: string, status: number, code: string]> = [
    ['no Host header', 'GET /topics HTTP/1.1\r\n\r\n', 400, 'TICKER_ERR_HOST_MISSING'],
    ['Expect: foo', 'GET /topics HTTP/1.1\r\nHost: x\r\nExpect: foo\r\n\r\n', 417, 'TICKER_ERR_EXPECTATION_FAILED'],
    ['CONNECT', 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n', 405, 'TICKER_ERR_METHOD_NOT_ALLOWED']
  ]
  for (const [what, request, status, code] of cases) {
    const conn = await RawConnection.open(t, port)
    conn.send(request)
    await conn.received(/\r\n\r\n\{.*\}/s)
    const got = answer(conn.text)
    assert.equal(got.status, status, what)
    assert.match(got.contentType ?? '', /^application\/json/, what)
    assert.equal(got.body.code, code, what)
    conn.socket.destroy()
  }
})

test('a request whose body never arrives is cut after server.requestTimeoutMs with a 408; streams live on', async (t) => {
  const { app, port, url } = await startApp(t, { server: { requestTimeoutMs: 300 }, topics: { a: {} } })
  const stream = await RawConnection.open(t, port)
  stream.send('GET /topics/a/stream HTTP/1.1\r\nHost: x\r\n\r\n')
  await stream.received('retry:')
  const slow = await RawConnection.open(t, port)
  slow.send(`POST /topics/a/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKEN}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"da`)
  await slow.whenClosed(10_000)
  const got = answer(slow.text)
  assert.deepEqual([got.status, got.body.code], [408, 'TICKER_ERR_REQUEST_TIMEOUT'])
  // The stream, open far longer than the timeout, still gets events.
  const id = (await app.ticker.bus.publish('a', 'still here')).id
  await stream.received(`id: ${id}\n`)
  assert.equal((await fetch(`${url}/healthz`)).status, 200)
})

test('a body with a __proto__ key is refused with a message that says so', async (t) => {
  const { url } = await startApp(t, { topics: { a: {} } })
  const res = await fetch(`${url}/topics/a/events`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: '{"data": 1, "__proto__": {"x": 1}}'
  })
  assert.equal(res.status, 400)
  assert.match((await res.json() as { message: string }).message, /__proto__/)
})
