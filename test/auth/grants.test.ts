/**
 * Signed tokens (JWT) that grant topics: every algorithm with real keys, every way a token can
 * be wrong (each a 401 that says which, never a crash, the token never logged), patterns that try
 * to escape, the three transports, publishing grants, and a stream that ends with its token and
 * resumes exactly with a fresh one.
 */
import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { generateKeyPairSync, type KeyObject } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SignJWT, exportJWK, base64url } from 'jose'
import { anyTopicPattern, isValidTopicPattern, topicPattern } from '../../src/bus/topics.ts'
import { cookieValue } from '../../src/http/grants.ts'
import { Recorder, logCapture, readStream, startApp } from '../helper.ts'

const SECRET = 'a-shared-secret-of-at-least-32-chars!!'
const TOPICS = { 'user.42.inbox': { private: true }, 'user.43.inbox': { private: true }, 'user.42.feed': { private: true }, news: {} }

type Claims = Record<string, unknown>
const GRANT = { ticker: { subscribe: ['user.42.*'], publish: ['user.42.inbox'] } }

/** A signed token; it expires in an hour unless `exp` says otherwise (null: never). */
async function sign (claims: Claims, key: KeyObject | Uint8Array, alg: string, options: { exp?: number | string | null, nbf?: number | string, kid?: string, aud?: string, iss?: string } = {}): Promise<string> {
  let jwt = new SignJWT(claims).setProtectedHeader({ alg, ...(options.kid === undefined ? {} : { kid: options.kid }) }).setIssuedAt()
  if (options.exp !== null) jwt = jwt.setExpirationTime(options.exp ?? '1h')
  if (options.nbf !== undefined) jwt = jwt.setNotBefore(options.nbf)
  if (options.aud !== undefined) jwt = jwt.setAudience(options.aud)
  if (options.iss !== undefined) jwt = jwt.setIssuer(options.iss)
  return jwt.sign(key)
}

const secretKey = new TextEncoder().encode(SECRET)

function tempDir (t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'ticker-jwt-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

async function status (url: string, init: RequestInit = {}): Promise<[number, string]> {
  const res = await fetch(url, init)
  const body = await res.json() as { code?: string }
  return [res.status, body.code ?? 'ok']
}

const bearer = (token: string): RequestInit => ({ headers: { authorization: `Bearer ${token}` } })

test('patterns: * is one part; a pattern never reaches outside its prefix', () => {
  const cases: Array<[string, string, boolean]> = [
    ['user.*', 'user.42', true],
    ['user.*', 'user.42.x.y', false],
    ['user.*', 'user', false],
    ['user.*', 'users.42', false],
    ['user.42', 'user.420', false],
    ['user.42', 'user.42', true],
    ['user.42.*', 'user.42.inbox', true],
    ['user.42.*', 'user.420.inbox', false],
    ['user.42.*', 'user.42.inbox.x', false],
    ['*.inbox', 'user.inbox', true],
    ['*.inbox', 'user.42.inbox', false],
    ['user.*.inbox', 'user.42.inbox', true],
    ['user.*.inbox', 'user..inbox', false]
  ]
  for (const [pattern, topic, expected] of cases) assert.equal(topicPattern(pattern)(topic), expected, `${pattern} ~ ${topic}`)
  for (const bad of ['', 'user.**', 'user.4*', 'User.42', 'user..x', '.user', 'user.', 'a'.repeat(65), 'user.$']) assert.equal(isValidTopicPattern(bad), false, bad)
  assert.equal(anyTopicPattern(['news', 'user.42.*'])('news'), true)
  assert.equal(anyTopicPattern([])('news'), false)
  assert.equal(cookieValue('a=1; ticker_token=abc%2Ed; b=2', 'ticker_token'), 'abc.d')
  assert.equal(cookieValue('xticker_token=1', 'ticker_token'), undefined)
})

test('every algorithm, with real keys: HS256 (secret), RS256, ES256 and EdDSA (a public key file, or a JWKS file)', async (t) => {
  const dir = tempDir(t)
  const pairs = {
    RS256: generateKeyPairSync('rsa', { modulusLength: 2048 }),
    ES256: generateKeyPairSync('ec', { namedCurve: 'P-256' }),
    EdDSA: generateKeyPairSync('ed25519')
  }
  const jwks = { keys: await Promise.all(Object.entries(pairs).map(async ([alg, { publicKey }]) => ({ ...await exportJWK(publicKey), kid: alg, alg }))) }
  writeFileSync(join(dir, 'jwks.json'), JSON.stringify(jwks))
  const setups: Array<{ name: string, jwt: Record<string, unknown>, token: () => Promise<string> }> = [
    { name: 'HS256', jwt: { secret: SECRET }, token: async () => sign(GRANT, secretKey, 'HS256') }
  ]
  for (const [alg, { publicKey, privateKey }] of Object.entries(pairs)) {
    const file = join(dir, `${alg}.pem`)
    writeFileSync(file, publicKey.export({ type: 'spki', format: 'pem' }))
    setups.push({ name: `${alg} (key file)`, jwt: { publicKeyFile: file }, token: async () => sign(GRANT, privateKey, alg) })
    setups.push({ name: `${alg} (JWKS)`, jwt: { jwksFile: join(dir, 'jwks.json') }, token: async () => sign(GRANT, privateKey, alg, { kid: alg }) })
  }
  for (const setup of setups) {
    const { url } = await startApp(t, { topics: TOPICS, auth: { jwt: setup.jwt } })
    const token = await setup.token()
    assert.deepEqual(await status(`${url}/topics/user.42.inbox/events`, bearer(token)), [200, 'ok'], setup.name)
    assert.deepEqual(await status(`${url}/topics/user.43.inbox/events`, bearer(token)), [403, 'TICKER_ERR_TOPIC_NOT_GRANTED'], setup.name)
    assert.deepEqual(await status(`${url}/topics/user.42.inbox/events`), [401, 'TICKER_ERR_TOPIC_PRIVATE'], setup.name)
  }
})

test('every way a token offered on purpose can be wrong is a 401 that says which; nothing crashes, and no token reaches the log', async (t) => {
  const logs = logCapture()
  const { url } = await startApp(t, {
    topics: TOPICS,
    auth: { jwt: { secret: SECRET, audience: 'ticker', issuer: 'https://id.example', clockToleranceSeconds: 0 } },
    log: { level: 'debug', requests: true }
  }, { logStream: logs.stream })
  const ok = { aud: 'ticker', iss: 'https://id.example' }
  const good = await sign(GRANT, secretKey, 'HS256', ok)
  const [header, payload] = good.split('.') as [string, string, string]
  const unsecured = `${base64url.encode(JSON.stringify({ alg: 'none', typ: 'JWT' }))}.${payload}.`
  const tampered = `${header}.${base64url.encode(JSON.stringify({ ...JSON.parse(new TextDecoder().decode(base64url.decode(payload))) as object, ticker: { subscribe: ['*.*.*'] } }))}.${good.split('.')[2] ?? ''}`
  const otherKey = new TextEncoder().encode('another-secret-that-is-32-chars-long!!')
  const now = Math.floor(Date.now() / 1000)
  const cases: Array<[string, string, string]> = [
    ['alg none', unsecured, 'TICKER_ERR_TOKEN_INVALID'],
    ['signed with another key', await sign(GRANT, otherKey, 'HS256', ok), 'TICKER_ERR_TOKEN_INVALID'],
    ['a claim tampered with', tampered, 'TICKER_ERR_TOKEN_INVALID'],
    ['not a JWT at all', 'not.a.jwt', 'TICKER_ERR_TOKEN_INVALID'],
    ['expired', await sign(GRANT, secretKey, 'HS256', { ...ok, exp: now - 10 }), 'TICKER_ERR_TOKEN_EXPIRED'],
    ['not yet valid', await sign(GRANT, secretKey, 'HS256', { ...ok, nbf: now + 600 }), 'TICKER_ERR_TOKEN_NOT_YET_VALID'],
    ['another audience', await sign(GRANT, secretKey, 'HS256', { ...ok, aud: 'someone-else' }), 'TICKER_ERR_TOKEN_AUDIENCE'],
    ['another issuer', await sign(GRANT, secretKey, 'HS256', { ...ok, iss: 'https://evil.example' }), 'TICKER_ERR_TOKEN_ISSUER'],
    ['a grant that is no list', await sign({ ticker: { subscribe: 'user.42.*' } }, secretKey, 'HS256', ok), 'TICKER_ERR_TOKEN_CLAIMS'],
    ['a pattern that is no pattern', await sign({ ticker: { subscribe: ['user.**'] } }, secretKey, 'HS256', ok), 'TICKER_ERR_TOKEN_CLAIMS'],
    ['a grant that is not an object', await sign({ ticker: ['user.42.*'] }, secretKey, 'HS256', ok), 'TICKER_ERR_TOKEN_CLAIMS'],
    ['no expiry (auth.jwt.requireExp)', await sign(GRANT, secretKey, 'HS256', { ...ok, exp: null }), 'TICKER_ERR_TOKEN_CLAIMS'],
    ['too many patterns', await sign({ ticker: { subscribe: Array.from({ length: 101 }, (_, i) => `t${i}`) } }, secretKey, 'HS256', ok), 'TICKER_ERR_TOKEN_CLAIMS']
  ]
  for (const [what, token, code] of cases) {
    assert.deepEqual(await status(`${url}/topics/user.42.inbox/events`, bearer(token)), [401, code], what)
    assert.deepEqual(await status(`${url}/topics/user.42.inbox/events?access_token=${encodeURIComponent(token)}`), [401, code], `${what}, in the query`)
    // A cookie is sent by the browser by itself: one that fails is no token (see below).
    assert.deepEqual(await status(`${url}/topics/user.42.inbox/events`, { headers: { cookie: `ticker_token=${token}` } }), [401, 'TICKER_ERR_TOPIC_PRIVATE'], `${what}, in the cookie`)
  }
  assert.deepEqual(await status(`${url}/topics/user.42.inbox/events`, bearer(good)), [200, 'ok'], 'the good one still works')
  const logged = JSON.stringify(logs.lines)
  for (const [what, token] of cases) assert.ok(!logged.includes(token.slice(0, 40)), `${what}: the token is not in the log`)
  assert.ok(!logged.includes(good.split('.')[2] ?? 'x'))
})

test('a grant is what every view of topics sees: /topics, history, /stream with no topics, format=html, resumes; by header, query or cookie', async (t) => {
  const { url } = await startApp(t, { topics: TOPICS, auth: { jwt: { secret: SECRET }, publishToken: 'static-publisher' } })
  const token = await sign(GRANT, secretKey, 'HS256', { exp: '1h' })
  const listed = async (init: RequestInit, query = ''): Promise<string[]> =>
    ((await (await fetch(`${url}/topics${query}`, init)).json()) as { topics: Array<{ name: string }> }).topics.map((x) => x.name).filter((n) => n.startsWith('user.'))
  assert.deepEqual(await listed(bearer(token)), ['user.42.inbox', 'user.42.feed'])
  assert.deepEqual(await listed({}, `?access_token=${token}`), ['user.42.inbox', 'user.42.feed'])
  assert.deepEqual(await listed({ headers: { cookie: `theme=dark; ticker_token=${token}` } }), ['user.42.inbox', 'user.42.feed'])
  assert.deepEqual(await listed({}), [])

  const everything = new Recorder(t, `${url}/stream?access_token=${token}`, ['user.42.inbox', 'user.43.inbox', 'news'])
  await everything.opened()
  const publish = async (topic: string, data: unknown, auth = 'static-publisher'): Promise<Response> => fetch(`${url}/topics/${topic}/events`, {
    method: 'POST', headers: { authorization: `Bearer ${auth}`, 'content-type': 'application/json' }, body: JSON.stringify({ data })
  })
  await publish('user.43.inbox', 'not yours')
  await publish('user.42.inbox', 'yours')
  await publish('news', 'public')
  assert.deepEqual((await everything.count(2)).map((e) => [e.type, e.data]), [['user.42.inbox', '"yours"'], ['news', '"public"']])
  const html = await readStream(`${url}/stream?format=html&topics=user.43.inbox&access_token=${token}`, () => true)
  assert.equal(html.res.status, 403)
  assert.deepEqual(await status(`${url}/topics/user.43.inbox/stream`, bearer(token)), [403, 'TICKER_ERR_TOPIC_NOT_GRANTED'])
  const history = await (await fetch(`${url}/topics/user.42.inbox/events`, bearer(token))).json() as { events: Array<{ data: unknown }> }
  assert.deepEqual(history.events.map((e) => e.data), ['yours'])

  // Publishing: only what the token grants, only from the Authorization header.
  assert.equal((await publish('user.42.inbox', 'by the user', token)).status, 201)
  const refused = await publish('user.43.inbox', 'into another inbox', token)
  assert.deepEqual([refused.status, (await refused.json() as { code: string }).code], [403, 'TICKER_ERR_PUBLISH_FORBIDDEN'])
  const byCookie = await fetch(`${url}/topics/user.42.inbox/events`, { method: 'POST', headers: { cookie: `ticker_token=${token}`, 'content-type': 'application/json' }, body: '{"data":1}' })
  assert.deepEqual([byCookie.status, (await byCookie.json() as { code: string }).code], [401, 'TICKER_ERR_PUBLISH_TOKEN_MISSING'], 'a cookie never publishes')
})

test('a stream lives no longer than its token; a fresh token resumes exactly from the last event', async (t) => {
  const { url } = await startApp(t, { topics: TOPICS, auth: { jwt: { secret: SECRET, clockToleranceSeconds: 0 }, publishToken: 'static-publisher' } })
  const publish = async (data: unknown): Promise<string> => ((await (await fetch(`${url}/topics/user.42.inbox/events`, {
    method: 'POST', headers: { authorization: 'Bearer static-publisher', 'content-type': 'application/json' }, body: JSON.stringify({ data })
  })).json()) as { id: string }).id
  const short = await sign(GRANT, secretKey, 'HS256', { exp: Math.floor(Date.now() / 1000) + 2 })
  const first = await publish('before')
  const stream = readStream(`${url}/topics/user.42.inbox/stream?lastEventId=${first}`, () => false, bearer(short), 10_000)
  const { text } = await stream
  assert.match(text, /: access expired: reconnect with a fresh token\n\n$/, 'the stream ended by itself when the token did')
  const missed = await publish('while away')
  assert.deepEqual(await status(`${url}/topics/user.42.inbox/events`, bearer(short)), [401, 'TICKER_ERR_TOKEN_EXPIRED'])
  const fresh = await sign(GRANT, secretKey, 'HS256', { exp: '1h' })
  const resumed = new Recorder(t, `${url}/topics/user.42.inbox/stream?access_token=${fresh}&lastEventId=${first}`, ['user.42.inbox'])
  const after = await publish('after')
  assert.deepEqual((await resumed.count(2)).map((e) => [e.id, e.data]), [[missed, '"while away"'], [after, '"after"']])
})

test('the cookie is a credential only for this origin and the origins cors.origins lists by name; a bad cookie is no token', async (t) => {
  const { url } = await startApp(t, { topics: TOPICS, auth: { jwt: { secret: SECRET } }, cors: { origins: ['*'] } })
  const token = await sign(GRANT, secretKey, 'HS256', { exp: '1h' })
  const cookie = { cookie: `ticker_token=${token}` }
  // Any site may read public topics (cors *), never with the visitor's cookie.
  assert.deepEqual(await status(`${url}/topics/user.42.inbox/events`, { headers: { ...cookie, origin: 'https://evil.example' } }), [401, 'TICKER_ERR_TOPIC_PRIVATE'])
  assert.deepEqual(await status(`${url}/topics/user.42.inbox/events`, { headers: { ...cookie, origin: url } }), [200, 'ok'], 'the same origin')
  assert.deepEqual(await status(`${url}/topics/user.42.inbox/events`, { headers: cookie }), [200, 'ok'], 'no Origin: a same-origin GET')
  const listed = await startApp(t, { topics: TOPICS, auth: { jwt: { secret: SECRET } }, cors: { origins: ['https://app.example'] } })
  assert.deepEqual(await status(`${listed.url}/topics/user.42.inbox/events`, { headers: { ...cookie, origin: 'https://app.example' } }), [200, 'ok'], 'an origin listed by name')
  // A cookie that does not verify (expired, or planted) is no token: public reads go on.
  const expired = await sign(GRANT, secretKey, 'HS256', { exp: Math.floor(Date.now() / 1000) - 3600 })
  for (const bad of [expired, 'garbage']) {
    assert.deepEqual(await status(`${url}/topics`, { headers: { cookie: `ticker_token=${bad}` } }), [200, 'ok'])
    assert.deepEqual(await status(`${url}/topics/user.42.inbox/events`, { headers: { cookie: `ticker_token=${bad}` } }), [401, 'TICKER_ERR_TOPIC_PRIVATE'])
  }
  assert.deepEqual(await status(`${url}/topics`, bearer(expired)), [401, 'TICKER_ERR_TOKEN_EXPIRED'], 'a token sent on purpose still says why it failed')
})

test('a token that expires beyond a timer\'s range keeps its stream open', async (t) => {
  const { url } = await startApp(t, { topics: TOPICS, auth: { jwt: { secret: SECRET }, publishToken: 'static-publisher' } })
  const far = await sign(GRANT, secretKey, 'HS256', { exp: Math.floor(Date.now() / 1000) + 30 * 86_400 })
  const stream = new Recorder(t, `${url}/topics/user.42.inbox/stream?access_token=${far}`, ['user.42.inbox'])
  await stream.opened()
  await fetch(`${url}/topics/user.42.inbox/events`, { method: 'POST', headers: { authorization: 'Bearer static-publisher', 'content-type': 'application/json' }, body: '{"data":"still here"}' })
  assert.deepEqual((await stream.count(1)).map((e) => e.data), ['"still here"'])
  assert.equal(stream.opens, 1, 'not ended and reopened')
})
