/**
 * Each scheduled producer runs on one instance of a fleet: when the process that runs the clock
 * is killed, another instance takes the clock over within twice the lease's TTL, and no second
 * is ticked twice; when it is paused past its lease (SIGSTOP: a GC pause, a stalled VM) and goes
 * on, it finds its lease gone and stands by.
 */
import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { randomUUID } from 'node:crypto'
import { stringify } from 'yaml'
import { startApp, waitUntil, type Started } from '../helper.ts'
import { redisMissing, startRedis } from '../redis.ts'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const TTL_MS = 1000
/** How long a child process may take to print its startup line (a cold tsx compile on a loaded machine). */
const STARTUP_BOUND_MS = 90_000

interface Fleet {
  /** The first instance, a process of its own, that took the clock's lease. */
  readonly child: ChildProcessWithoutNullStreams
  /** What it logged so far. */
  readonly out: () => string
  /** The second instance, in this process, standing by. */
  readonly second: Started
  readonly clock: () => { runner: string | null, runsHere: boolean } | undefined
  /** The clock's ticks as the second instance receives them (epoch ms), from either instance. */
  readonly ticks: number[]
}

async function fleet (t: TestContext): Promise<Fleet> {
  const redis = await startRedis(t)
  const config = {
    bus: { backend: 'redis', redis: { url: redis.url, keyPrefix: randomUUID(), leaseTtlMs: TTL_MS } },
    producers: { clock: { enabled: true, schedule: '* * * * * *' }, system: { enabled: false }, feeds: [] }
  }
  const dir = mkdtempSync(join(tmpdir(), 'ticker-lease-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  writeFileSync(join(dir, 'config.yaml'), stringify({ ...config, server: { port: 0 }, log: { level: 'info', format: 'json' } }))
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', '--config', join(dir, 'config.yaml')], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] })
  t.after(() => {
    if (child.exitCode !== null || child.signalCode !== null) return
    child.kill('SIGCONT')
    child.kill('SIGKILL')
  })
  let out = ''
  child.stdout.on('data', (d: Buffer) => { out += d.toString() })
  await waitUntil(() => out.includes('took the lease of a producer'), STARTUP_BOUND_MS, 'the first instance to take the clock')

  const second = await startApp(t, config)
  const clock = (): { runner: string | null, runsHere: boolean } | undefined =>
    second.app.ticker.scheduler.state().find((p) => p.name === 'clock')
  await waitUntil(() => clock()?.runner !== null && clock()?.runner !== undefined, 10_000, 'the second instance to see the runner')
  assert.equal(clock()?.runsHere, false)
  const ticks: number[] = []
  second.app.ticker.bus.subscribe((e) => { if (e.topic === 'clock') ticks.push((e.data as { epochMs: number }).epochMs) })
  await waitUntil(() => ticks.length >= 2, 10_000, 'ticks from the first instance')
  return { child, out: () => out, second, clock, ticks }
}

function assertEachSecondOnce (ticks: readonly number[]): void {
  const seconds = ticks.map((ms) => Math.floor(ms / 1000))
  assert.deepEqual(seconds, [...new Set(seconds)].sort((a, b) => a - b), `each second ticked once, in order: ${seconds.join(', ')}`)
}

test('the instance that runs the clock is killed: another takes it over within 2×TTL, no second ticked twice', { skip: redisMissing() }, async (t) => {
  const { child, clock, ticks } = await fleet(t)
  child.kill('SIGKILL')
  await once(child, 'exit')
  const before = ticks.length
  await waitUntil(() => clock()?.runsHere === true, 2 * TTL_MS + 1000, 'the second instance to take the clock over')
  await waitUntil(() => ticks.length >= before + 2, 5000, 'ticks from the second instance')
  assertEachSecondOnce(ticks)
})

test('the instance that runs the clock is paused past its lease: another takes over, and when it goes on it stands by, no second ticked twice', { skip: redisMissing() }, async (t) => {
  const { child, out, clock, ticks } = await fleet(t)
  child.kill('SIGSTOP')
  await waitUntil(() => clock()?.runsHere === true, 2 * TTL_MS + 1000, 'the second instance to take the clock over')
  const before = ticks.length
  await waitUntil(() => ticks.length >= before + 2, 5000, 'ticks from the second instance')
  child.kill('SIGCONT')
  await waitUntil(() => out().includes('lost the lease of a producer to another instance'), 10_000, 'the paused instance to find its lease gone')
  const resumed = ticks.length
  await waitUntil(() => ticks.length >= resumed + 3, 10_000, 'more ticks after it went on')
  assert.equal(clock()?.runsHere, true, 'the clock stays where it went')
  assert.equal(child.exitCode, null, 'the paused instance goes on running')
  assertEachSecondOnce(ticks)
})
