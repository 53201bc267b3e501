import { test } from 'node:test'
import assert from 'node:assert/strict'
import { TOKEN, startApp } from '../helper.ts'

async function post (url: string, init: { token?: string | null, body?: string, type?: string, topic?: string } = {}): Promise<{ status: number, body: Record<string, unknown> }> {
  const headers: Record<string, string> = { 'content-type': init.type ?? 'application/json' }
  const token = init.token === undefined ? TOKEN : init.token
  if (token !== null) headers.authorization = `Bearer ${token}`
  const res = await fetch(`${url}/topics/${init.topic ?? 'a'}/events`, { method: 'POST', headers, body: init.body ?? '{"data":1}' })
  return { status: res.status, body: await res.json() as Record<string, unknown> }
}

test('POST publishes and answers 201 with the ID', async (t) => {
  const { url } = await startApp(t, { topics: { a: {} } })
  const { status, body } = await post(url, { body: '{"data":{"x":[1,2]}}' })
  assert.equal(status, 201)
  assert.match(String(body.id), /^[a-z0-9]+-1$/)
  const history = await (await fetch(`${url}/topics/a/events`)).json() as { events: Array<{ id: string, data: unknown }> }
  assert.deepEqual(history.events.map((e) => [e.id, e.data]), [[body.id, { x: [1, 2] }]])
})

test('every refusal is a JSON error a person understands', async (t) => {
  const { url } = await startApp(t, { topics: { a: {} }, server: { bodyLimitBytes: 1000 } })
  const cases: Array<[what: string, init: Parameters<typeof post>[1], status: number, code: string, message: RegExp]> = [
    ['no token', { token: null }, 401, 'TICKER_ERR_PUBLISH_TOKEN_MISSING', /Authorization: Bearer/],
    ['wrong token', { token: 'nope' }, 401, 'TICKER_ERR_PUBLISH_TOKEN_WRONG', /publish token is wrong/],
    ['token of another length', { token: TOKEN + 'x' }, 401, 'TICKER_ERR_PUBLISH_TOKEN_WRONG', /wrong/],
    ['unknown topic', { topic: 'zzz' }, 404, 'TICKER_ERR_TOPIC_UNKNOWN', /"zzz" is not declared/],
    ['reserved name', { topic: 'reset' }, 400, 'TICKER_ERR_TOPIC_NAME', /reserved/],
    ['too large', { body: JSON.stringify({ data: 'x'.repeat(2000) }) }, 413, 'FST_ERR_CTP_BODY_TOO_LARGE', /limit of 1000 bytes/],
    ['invalid JSON', { body: '{"data": ' }, 400, 'FST_ERR_CTP_INVALID_JSON_BODY', /not valid JSON/],
    ['empty body', { body: '' }, 400, 'FST_ERR_CTP_EMPTY_JSON_BODY', /empty/],
    ['missing data', { body: '{"date": 1}' }, 400, 'FST_ERR_VALIDATION', /required property 'data'/],
    ['not an object', { body: '[1]' }, 400, 'FST_ERR_VALIDATION', /must be object/],
    ['not JSON at all', { body: 'data=1', type: 'text/plain' }, 415, 'FST_ERR_CTP_INVALID_MEDIA_TYPE', /application\/json/]
  ]
  for (const [what, init, status, code, message] of cases) {
    const res = await post(url, init)
    assert.equal(res.status, status, what)
    assert.equal(res.body.code, code, what)
    assert.match(String(res.body.message), message, what)
  }
  const history = await (await fetch(`${url}/topics/a/events`)).json() as { events: unknown[] }
  assert.deepEqual(history.events, [], 'nothing refused was published')
})

test('publishing is off unless a token is configured', async (t) => {
  const { url } = await startApp(t, { topics: { a: {} }, auth: { publishToken: '' } })
  const res = await post(url, { token: '' })
  assert.equal(res.status, 403)
  assert.equal(res.body.code, 'TICKER_ERR_PUBLISH_DISABLED')
  assert.match(String(res.body.message), /TICKER_PUBLISH_TOKEN/)
})

test('undeclared topics are created only when allowed', async (t) => {
  const { url } = await startApp(t, { topics: { a: {} }, bus: { allowUndeclaredTopics: true, maxTopics: 6 } }) // the 4 shipped topics, a, and one more
  assert.equal((await post(url, { topic: 'fresh.topic' })).status, 201)
  const full = await post(url, { topic: 'another' })
  assert.equal(full.status, 409)
  assert.equal(full.body.code, 'TICKER_ERR_TOPIC_LIMIT')
  assert.equal((await post(url, { topic: 'Bad!' })).status, 400)
})

test('data nested deeper than every reader can handle is refused at publish; every reader keeps working', async (t) => {
  const { url } = await startApp(t, { topics: { a: {} }, server: { bodyLimitBytes: 65536 } })
  const nested = (depth: number): string => '['.repeat(depth) + ']'.repeat(depth)
  const ok = await post(url, { body: `{"data":${nested(64)}}` })
  assert.equal(ok.status, 201, 'data 64 levels deep is fine')
  for (const depth of [65, 4111]) {
    const { status, body } = await post(url, { body: `{"data":${nested(depth)}}` })
    assert.equal(status, 400, `${depth} levels`)
    assert.equal(body.code, 'TICKER_ERR_DATA_TOO_DEEP')
    assert.match(String(body.message), /nested deeper than 64 levels/)
  }
  const history = await fetch(`${url}/topics/a/events`)
  assert.equal(history.status, 200)
  assert.equal(((await history.json()) as { events: unknown[] }).events.length, 1)
})
