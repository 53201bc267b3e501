/**
 * Each scheduled producer runs on one instance of a fleet: when the process that runs the clock
 * is killed, another instance takes the clock over within twice the lease's TTL, and no second
 * is ticked twice.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { randomUUID } from 'node:crypto'
import { stringify } from 'yaml'
import { startApp, waitUntil } from '../helper.ts'
import { redisMissing, startRedis } from '../redis.ts'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const TTL_MS = 1000
/** How long a child process may take to print its startup line (a cold tsx compile on a loaded machine). */
const STARTUP_BOUND_MS = 90_000

test('the instance that runs the clock is killed: another takes it over within 2×TTL, no second ticked twice', { skip: redisMissing() }, async (t) => {
  const redis = await startRedis(t)
  const config = {
    bus: { backend: 'redis', redis: { url: redis.url, keyPrefix: randomUUID(), leaseTtlMs: TTL_MS } },
    producers: { clock: { enabled: true, schedule: '* * * * * *' }, system: { enabled: false }, feeds: [] }
  }
  // The first instance, a process of its own, takes the clock's lease.
  const dir = mkdtempSync(join(tmpdir(), 'ticker-lease-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  writeFileSync(join(dir, 'config.yaml'), stringify({ ...config, server: { port: 0 }, log: { level: 'info', format: 'json' } }))
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', '--config', join(dir, 'config.yaml')], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
  t.after(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL') })
  let out = ''
  child.stdout.on('data', (d: Buffer) => { out += d.toString() })
  await waitUntil(() => out.includes('took the lease of a producer'), STARTUP_BOUND_MS, 'the first instance to take the clock')

  // The second instance stands by.
  const second = await startApp(t, config)
  const clock = (): { runner: string | null, runsHere: boolean } | undefined =>
    second.app.ticker.scheduler.state().find((p) => p.name === 'clock')
  await waitUntil(() => clock()?.runner !== null && clock()?.runner !== undefined, 10_000, 'the second instance to see the runner')
  assert.equal(clock()?.runsHere, false)
  const ticks: number[] = []
  second.app.ticker.bus.subscribe((e) => { if (e.topic === 'clock') ticks.push((e.data as { epochMs: number }).epochMs) })
  await waitUntil(() => ticks.length >= 2, 10_000, 'ticks from the first instance')

  child.kill('SIGKILL')
  await once(child, 'exit')
  const before = ticks.length
  await waitUntil(() => clock()?.runsHere === true, 2 * TTL_MS + 1000, 'the second instance to take the clock over')
  await waitUntil(() => ticks.length >= before + 2, 5000, 'ticks from the second instance')
  const seconds = ticks.map((ms) => Math.floor(ms / 1000))
  assert.deepEqual(seconds, [...new Set(seconds)].sort((a, b) => a - b), `each second ticked once, in order: ${seconds.join(', ')}`)
})
