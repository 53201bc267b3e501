/**
 * A real Prometheus (Debian's prometheus package) on loopback scrapes a running Ticker.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort, publish, startApp, waitUntil } from '../helper.ts'

const PROMETHEUS = '/usr/bin/prometheus'

interface QueryResult { status: string, data: { result: Array<{ metric: Record<string, string>, value: [number, string] }> } }

test('Prometheus scrapes Ticker: the target is up and Ticker\'s metrics have the expected values', async (t) => {
  if (!existsSync(PROMETHEUS)) {
    if (process.env.CI === 'true') throw new Error('prometheus is missing: CI must install Debian\'s prometheus package')
    t.skip('prometheus is not installed (apt-get install prometheus)')
    return
  }
  const { url, port } = await startApp(t, { topics: { a: {} }, metrics: { token: 'prom-token' } })
  for (let i = 0; i < 5; i++) await publish(url, 'a', i)

  const dir = mkdtempSync(join(tmpdir(), 'ticker-prometheus-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  writeFileSync(join(dir, 'prometheus.yml'), [
    'global:',
    '  scrape_interval: 1s',
    '  scrape_timeout: 1s',
    'scrape_configs:',
    '  - job_name: ticker',
    '    authorization:',
    '      credentials: prom-token',
    '    static_configs:',
    `      - targets: ['127.0.0.1:${port}']`
  ].join('\n'))
  const promPort = await freePort()
  const prometheus = spawn(PROMETHEUS, [
    `--config.file=${join(dir, 'prometheus.yml')}`,
    `--storage.tsdb.path=${join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${promPort}`
  ], { stdio: ['ignore', 'ignore', 'pipe'] })
  let log = ''
  prometheus.stderr.on('data', (d: Buffer) => { log = (log + d.toString()).slice(-4000) })
  const exited = once(prometheus, 'exit')
  t.after(async () => {
    if (prometheus.exitCode === null) {
      prometheus.kill('SIGTERM')
      await exited
    }
  })

  const api = `http://127.0.0.1:${promPort}`
  const query = async (q: string): Promise<QueryResult['data']['result']> => {
    const res = await fetch(`${api}/api/v1/query?query=${encodeURIComponent(q)}`)
    return (await res.json() as QueryResult).data.result
  }
  await waitUntil(async () => (await fetch(`${api}/-/ready`).catch(() => undefined))?.status === 200, 20_000, `Prometheus to be ready; its log: ${log}`)
  const up = await waitUntil(async () => (await query('up{job="ticker"}'))[0]?.value[1] === '1' || undefined, 20_000, 'the target to be up')
  assert.equal(up, true)
  const published = await waitUntil(async () => (await query('ticker_bus_events_published_total{topic="a"}'))[0]?.value[1], 20_000, 'the counter')
  assert.equal(published, '5')
})
