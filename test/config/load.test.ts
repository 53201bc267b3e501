import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ConfigError, buildConfig, loadConfig, mergeConfig } from '../../src/config/load.ts'

const CUSTOM = 'test/fixtures/config/custom.yaml'

function problemsOf (fn: () => unknown): readonly string[] {
  try {
    fn()
  } catch (err) {
    if (err instanceof ConfigError) return err.problems
    throw err
  }
  assert.fail('expected a ConfigError')
}

test('the shipped defaults load: 127.0.0.1:3000, publishing off', () => {
  const config = loadConfig({ argv: [], env: {} })
  assert.equal(config.server.host, '127.0.0.1')
  assert.equal(config.server.port, 3000)
  assert.equal(config.auth.publishToken, '')
  assert.equal(config.bus.allowUndeclaredTopics, false)
  assert.equal(config.sse.heartbeatMs, 15000)
  assert.ok(Object.isFrozen(config.server), 'deep-frozen')
})

test('a config file merges over the defaults; lists replace', () => {
  for (const options of [{ argv: ['--config', CUSTOM], env: {} }, { argv: [`--config=${CUSTOM}`], env: {} }, { argv: [], env: { TICKER_CONFIG: CUSTOM } }]) {
    const config = loadConfig(options)
    assert.equal(config.server.port, 4567)
    assert.equal(config.server.host, '127.0.0.1')
    assert.deepEqual(Object.keys(config.topics), ['clock', 'system', 'news', 'news.status', 'extra'])
    assert.deepEqual(config.topics.extra, { title: 'Extra', capacity: 7 })
    assert.deepEqual(config.cors.origins, ['http://a.example', 'http://b.example'])
  }
})

test('environment variables override the file', () => {
  const config = loadConfig({
    argv: ['--config', CUSTOM],
    env: { PORT: '8080', HOST: '0.0.0.0', TICKER_PUBLISH_TOKEN: 'p', TICKER_SUBSCRIBE_TOKEN: 's', TICKER_LOG_LEVEL: 'warn', TICKER_CORS_ORIGINS: 'https://x.example, *', TICKER_TRUST_PROXY: 'true', TICKER_REDIS_URL: 'redis://r.internal:6380/2' }
  })
  assert.deepEqual(
    [config.server.port, config.server.host, config.auth.publishToken, config.auth.subscribeToken, config.log.level, config.cors.origins, config.server.trustProxy, config.bus.redis.url],
    [8080, '0.0.0.0', 'p', 's', 'warn', ['https://x.example', '*'], true, 'redis://r.internal:6380/2'])
})

test('bad environment values are named like any other bad field', () => {
  assert.deepEqual(problemsOf(() => loadConfig({ argv: [], env: { PORT: '99999', TICKER_TRUST_PROXY: 'maybe', TICKER_REDIS_URL: 'http://nope' } })), [
    'server.port: expected integer to be less or equal to 65535, got 99999',
    'server.trustProxy: expected boolean, got "maybe"',
    'bus.redis.url: expected a string matching ^rediss?://, got "http://nope"'
  ])
})

test('every problem is reported at once, each naming its field', () => {
  const problems = problemsOf(() => buildConfig({
    server: { port: 'x', extra: 1 },
    sse: { heartbeatMs: 0 },
    cors: { origins: 'http://a' }
  }))
  assert.deepEqual(problems, [
    'server.extra: unknown setting (check its spelling against config/default.yaml)',
    'server.port: expected integer, got "x"',
    'sse.heartbeatMs: expected integer to be greater or equal to 1, got 0',
    'cors.origins: expected array, got "http://a"'
  ])
})

test('rules that span fields', () => {
  assert.deepEqual(problemsOf(() => buildConfig({ topics: { reset: {}, vault: { private: true } }, cors: { origins: ['https://ok.example', 'https://bad.example/path'] } })), [
    'topics.reset: "reset" is reserved for control events; pick another name',
    'auth.subscribeToken: required because topics vault are private (or set TICKER_SUBSCRIBE_TOKEN, or auth.jwt)',
    'cors.origins: "https://bad.example/path" is not an origin; expected "*" or scheme://host[:port] with no path'
  ])
  assert.match(problemsOf(() => buildConfig({ bus: { maxTopics: 2 } }))[0] ?? '', /bus\.maxTopics: 2 is fewer than the 4 declared topics/)
})

test('unreadable and malformed files are reported with their path', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ticker-config-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const broken = join(dir, 'broken.yaml')
  writeFileSync(broken, 'server: [unclosed\n')
  assert.match(problemsOf(() => loadConfig({ argv: ['--config', broken], env: {} }))[0] ?? '', /broken\.yaml, line \d+: not valid YAML: .+\.$/)
  // The line named is where the mistake is, and the message ends in a sentence.
  const indented = join(dir, 'indented.yaml')
  writeFileSync(indented, 'server:\n  port: 3000\n topics:\n  a: {}\n')
  assert.deepEqual(problemsOf(() => loadConfig({ argv: ['--config', indented], env: {} })),
    [`${indented}, line 3: not valid YAML: all mapping items must start at the same column.`])
  const quoted = join(dir, 'quoted.yaml')
  writeFileSync(quoted, 'server:\n  port: 3000\n  host: "0.0.0.0\nlog:\n  level: info\n')
  assert.deepEqual(problemsOf(() => loadConfig({ argv: ['--config', quoted], env: {} })),
    [`${quoted}, line 3: not valid YAML: a double-quoted string opens here and is never closed.`])
  const scalar = join(dir, 'scalar.yaml')
  writeFileSync(scalar, '42\n')
  assert.match(problemsOf(() => loadConfig({ argv: ['--config', scalar], env: {} }))[0] ?? '', /scalar\.yaml: expected a mapping/)
  assert.deepEqual(problemsOf(() => loadConfig({ argv: ['--config'], env: {} })), ['--config: expected a file path after it'])
  const empty = join(dir, 'empty.yaml')
  writeFileSync(empty, '')
  assert.equal(loadConfig({ argv: ['--config', empty], env: {} }).server.port, 3000)
})

test('mergeConfig: objects merge, anything else replaces', () => {
  assert.deepEqual(mergeConfig({ a: { b: 1, c: [1, 2] }, d: 1 }, { a: { c: [3] }, e: 2 }), { a: { b: 1, c: [3] }, d: 1, e: 2 })
})

test('names that are also Object properties are names like any other', (t) => {
  // A topic named "constructor" is not declared just because every object has a constructor.
  assert.deepEqual(problemsOf(() => buildConfig({ producers: { clock: { enabled: true, topic: 'constructor' } } })),
    ['producers.clock.topic: topic "constructor" is not declared; add it under `topics`'])
  const config = buildConfig({ topics: { constructor: { title: 'Built' } } })
  assert.deepEqual(config.topics.constructor, { title: 'Built' })
  assert.equal(config.topics.toString, undefined)
  assert.equal(config.dashboards.constructor, undefined)

  // "__proto__" in a file is a key, so it is rejected like any bad name instead of vanishing.
  const dir = mkdtempSync(join(tmpdir(), 'ticker-config-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const file = join(dir, 'proto.yaml')
  writeFileSync(file, 'topics:\n  __proto__:\n    title: Sneaky\n')
  assert.match(problemsOf(() => loadConfig({ argv: ['--config', file], env: {} })).join('\n'), /^topics\.__proto__: /m)
})

test('producer settings: cron expressions, time zones, URLs and topics are checked on load', () => {
  const problems = problemsOf(() => buildConfig({
    producers: {
      clock: { schedule: '*/5 * *', timeZones: ['UTC', 'Mars/Olympus'] },
      system: { schedule: '61 * * * * *' },
      feeds: [
        { name: 'a', url: 'ftp://example.com/feed', topic: 'news' },
        { name: 'a', url: 'https://example.com/feed', topic: 'undeclared', backoffBaseMs: 10, backoffMaxMs: 5 },
        { name: 'off', url: 'not even a url', topic: 'nowhere', enabled: false }
      ]
    }
  }))
  assert.match(problems[2] ?? '', /^producers\.system\.schedule: "61 \* \* \* \* \*" is not a cron expression \(second/)
  assert.deepEqual(problems.toSpliced(2, 1), [
    'producers.clock.schedule: "*/5 * *" is not a cron expression (expression: expected 5 or 6 fields but got 3); e.g. "*/5 * * * *" or, with seconds, "*/2 * * * * *"',
    'producers.clock.timeZones: "Mars/Olympus" is not an IANA time zone (such as Europe/Paris)',
    'producers.feeds.0.url: "ftp://example.com/feed" is not an http(s) URL',
    'producers.feeds.1.name: "a" is used by another feed; names must be unique',
    'producers.feeds.1.topic: topic "undeclared" is not declared; add it under `topics`',
    'producers.feeds.1.topic: topic "undeclared.status" is not declared; add it under `topics`',
    'producers.feeds.1: backoffBaseMs (10) is larger than backoffMaxMs (5)'
  ])
  assert.deepEqual(problemsOf(() => buildConfig({ producers: { feeds: [{ name: 'x', url: 'https://e.example/', topic: 'news', color: 'red' }] } })),
    ['producers.feeds.0.color: unknown setting (check its spelling against config/default.yaml)'])
})

test('dashboard tiles: a missing, unused or contradictory setting, or a bad field path, names the dashboard and tile', () => {
  const tiles = [
    { topic: 'system', kind: 'number' },
    { topic: 'system', kind: 'gauge', field: 'cpuPercent', min: 10, max: 5, thresholds: { warn: 90, critical: 80 } },
    { topic: 'system', kind: 'chart', fields: ['cpuPercent'], lines: 3 },
    { topic: 'system', kind: 'text', field: 'a..b' },
    { topic: 'system', kind: 'status', field: 'state', states: { up: 'fine' } },
    { topic: 'system', kind: 'number', field: 'x', thresholds: { warn: 10, critical: 20, direction: 'below' } },
    { topic: 'system', kind: 'list', field: 'disks', label: 'mount' }
  ]
  const problems = problemsOf(() => buildConfig({ dashboards: { ops: { title: 'Ops', tiles } } }))
  assert.deepEqual(problems, [
    'dashboards.ops.tiles.3.field: expected a string matching ^[A-Za-z0-9_$-]+(\\.[A-Za-z0-9_$-]+){0,15}$, got "a..b"',
    'dashboards.ops.tiles.4.states.up: expected one of ok, warn, critical, unknown, got "fine"'
  ], 'the schema first')
  tiles.splice(3, 2)
  assert.deepEqual(problemsOf(() => buildConfig({ dashboards: { ops: { title: 'Ops', tiles } } })), [
    'dashboards.ops.tiles.0: a number tile needs `field`',
    'dashboards.ops.tiles.1: min (10) must be below max (5)',
    'dashboards.ops.tiles.1: thresholds: with direction above, warn (90) must be at or below critical (80)',
    'dashboards.ops.tiles.2.lines: a chart tile does not use `lines`',
    'dashboards.ops.tiles.3: thresholds: with direction below, warn (10) must be at or above critical (20)'
  ])
})

test('auth.jwt: one way to verify, a secret long enough, TICKER_JWT_SECRET; private topics may rely on it', () => {
  assert.deepEqual(problemsOf(() => buildConfig({ auth: { jwt: { secret: 'short', jwksFile: '/x.json' } } })), [
    'auth.jwt: set one of secret, publicKeyFile and jwksFile, not several',
    'auth.jwt.jwksFile: cannot read /x.json (ENOENT)',
    'auth.jwt.secret: too short for HS256; use at least 32 characters (e.g. `openssl rand -base64 32`)'
  ])
  const config = loadConfig({ argv: [], env: { TICKER_JWT_SECRET: 'x'.repeat(32) } })
  assert.equal(config.auth.jwt.secret, 'x'.repeat(32))
  assert.equal(buildConfig({ topics: { vault: { private: true } }, auth: { jwt: { secret: 'y'.repeat(32) } } }).topics.vault?.private, true)
})

test('topic families: a pattern is a pattern, and overlapping families and declared topics agree on privacy', () => {
  assert.deepEqual(problemsOf(() => buildConfig({
    auth: { subscribeToken: 's' },
    topics: { 'user.admin.inbox': {} },
    topicPatterns: { 'user.*.*': {}, 'user.*.inbox': { private: true }, 'room.*': {}, 'no-star': {}, 'bad..x': {} }
  })), [
    'topicPatterns.no-star: not a topic pattern; expected dot-separated parts of a-z 0-9 _ -, with * for one part (e.g. user.*.inbox)',
    'topicPatterns.bad..x: not a topic pattern; expected dot-separated parts of a-z 0-9 _ -, with * for one part (e.g. user.*.inbox)',
    'topicPatterns.user.*.inbox: some topics match both "user.*.*" and "user.*.inbox", and the first match ("user.*.*", public) decides; make both private or neither',
    'topics.user.admin.inbox: matches the private family "user.*.inbox" but is declared public; declare it private: true, or name it otherwise'
  ])
})

test('auth.jwt key files are checked at load: missing, not a key, a key of another kind, not a key set', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ticker-keys-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const notPem = join(dir, 'not.pem')
  writeFileSync(notPem, 'hello')
  const notJwks = join(dir, 'not.json')
  writeFileSync(notJwks, '{"keys": []}')
  const missing = join(dir, 'missing.pem')
  assert.deepEqual(problemsOf(() => buildConfig({ auth: { jwt: { publicKeyFile: missing } } })), [`auth.jwt.publicKeyFile: cannot read ${missing} (ENOENT)`])
  assert.deepEqual(problemsOf(() => buildConfig({ auth: { jwt: { publicKeyFile: notPem } } })), [`auth.jwt.publicKeyFile: ${notPem} is not a PEM public key`])
  assert.deepEqual(problemsOf(() => buildConfig({ auth: { jwt: { jwksFile: notJwks } } })), [`auth.jwt.jwksFile: ${notJwks} is not a JSON Web Key Set ({"keys": [...]})`])
})
