/** The real process: startup, bad config, graceful shutdown on SIGTERM. */
import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { readStream, waitUntil } from './helper.ts'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
/** How long a child process may take to print its startup line before the test gives up on it. */
const STARTUP_BOUND_MS = 90_000

interface Proc { child: ChildProcess, stdout: () => string, stderr: () => string, exit: Promise<[number | null, NodeJS.Signals | null]> }

function run (t: TestContext, args: string[], env: Record<string, string> = {}): Proc {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', ...args], {
    cwd: ROOT,
    env: { ...process.env, PORT: '0', TICKER_LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let out = ''
  let err = ''
  child.stdout?.on('data', (d: Buffer) => { out += d.toString() })
  child.stderr?.on('data', (d: Buffer) => { err += d.toString() })
  const exit = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>
  t.after(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL') })
  return { child, stdout: () => out, stderr: () => err, exit }
}

test('a bad config: one line per problem, naming the field, no stack trace, exit 2', async (t) => {
  // Empty variables are ignored, so the file's own bad values are what gets checked.
  const proc = run(t, ['--config', 'test/fixtures/config/bad.yaml'], { PORT: '', TICKER_LOG_LEVEL: '' })
  const [code] = await proc.exit
  assert.equal(code, 2)
  const lines = proc.stderr().trim().split('\n')
  assert.equal(lines[0], 'ticker: invalid configuration:')
  const problems = lines.slice(1).join('\n')
  for (const field of ['server.port', 'server.hots', 'log.level', 'topics.Not A Name', 'topics.fine.capacity']) {
    assert.match(problems, new RegExp(`^  - ${field.replaceAll('.', '\\.')}: `, 'm'), field)
  }
  assert.equal(lines.length, 6, proc.stderr())
  assert.doesNotMatch(proc.stderr(), /\bat .*\(.*:\d+:\d+\)/, 'no stack trace')
})

test('a missing config file is reported, not thrown', async (t) => {
  const proc = run(t, [], { TICKER_CONFIG: 'test/fixtures/config/does-not-exist.yaml' })
  const [code] = await proc.exit
  assert.equal(code, 2)
  assert.match(proc.stderr(), /does-not-exist\.yaml: cannot read the file \(ENOENT\)/)
})

test('SIGTERM with open streams: streams end, the process exits 0 within the deadline', async (t) => {
  const proc = run(t, ['--config', 'test/fixtures/config/offline.yaml'], { TICKER_PUBLISH_TOKEN: 'x' })
  // The signal is the process's own startup line. A cold tsx compile on a loaded machine can take
  // long before it, so the bound only catches a process that never starts.
  const url = await waitUntil(() => /"address":"(http:\/\/[^"]+)"/.exec(proc.stdout())?.[1], STARTUP_BOUND_MS, 'the listening log line')
  const streams = [1, 2, 3].map(async () => readStream(`${url}/stream`, () => false, {}, 15_000))
  await waitUntil(async () => {
    const body = await (await fetch(`${url}/topics`)).json() as { topics: Array<{ subscribers: number }> }
    return body.topics[0]?.subscribers === 3
  }, 5000, 'three open streams')

  proc.child.kill('SIGTERM')
  const [code, signal] = await proc.exit
  // Exit 0: the shutdown finished before its deadline (past it, the process exits 1).
  assert.deepEqual([code, signal], [0, null])
  for (const { text } of await Promise.all(streams)) assert.match(text, /: server shutting down/)
  assert.match(proc.stdout(), /"msg":"shutting down"/)
  const startup = JSON.parse(proc.stdout().split('\n').find((l) => l.includes('"msg":"Ticker listening')) ?? '{}') as Record<string, unknown>
  assert.equal(startup.address, url)
  assert.equal(startup.backend, 'memory')
  assert.deepEqual(startup.topics, ['clock', 'system', 'news', 'news.status'])
  assert.deepEqual(startup.producers, ['clock (* * * * * *)', 'system (*/2 * * * * *)'])
  assert.equal(startup.metrics, `${url}/metrics`)
  assert.equal(startup.publishing, 'on')
  assert.equal(startup.corsOrigins, 'none')
  assert.equal(startup.frameAncestors, 'this origin only')
  assert.doesNotMatch(proc.stdout(), /Server listening at/, 'one startup line, not Fastify\'s too')
  assert.doesNotMatch(proc.stdout(), /"msg":"(incoming request|request completed)"/, 'no line per request by default')
  assert.match(proc.stdout(), /"msg":"stopped: ended 3 open streams, stopped the producers, closed the memory bus"/)
})
