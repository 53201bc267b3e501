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
