/**
 * Ticker as a separate process for benchmarks: its own event loop, CPU and file descriptors,
 * like production. Started from source with tsx; stopped by its PID.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { stringify } from 'yaml'
import { startProcess, type Started } from './processes.ts'

/** Flags for node from a space-separated variable, e.g. BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof". */
export const argsOf = (value: string | undefined): string[] => value?.split(' ').filter(Boolean) ?? []

/**
 * The flags `npm start` gives node (package.json), so that benchmarks measure Ticker as it runs:
 * a 16 MB young generation (see docs/BENCHMARKS.md, "Idle memory on Node 24").
 */
export const START_NODE_ARGS = ['--max-semi-space-size=16']

/**
 * Starts Ticker with `config` merged over the shipped defaults (producers and feeds off unless
 * given), its node started with `nodeArgs` (BENCH_NODE_ARGS if set, else what `npm start` uses); from `checkout` (another
 * working tree of this repository) instead of this one if given.
 */
export async function startTicker (config: Record<string, unknown>, env: Record<string, string> = {}, checkout = '.',
  nodeArgs = process.env.BENCH_NODE_ARGS === undefined ? START_NODE_ARGS : argsOf(process.env.BENCH_NODE_ARGS)): Promise<Started> {
  const dir = mkdtempSync(join(tmpdir(), 'ticker-bench-'))
  const file = join(dir, 'config.yaml')
  writeFileSync(file, stringify({
    server: { port: 0 },
    log: { level: 'warn', format: 'json' },
    producers: { clock: { enabled: false }, system: { enabled: false }, feeds: [] },
    ...config
  }))
  const started = await startProcess(process.execPath, [...nodeArgs, '--import', 'tsx', join(checkout, 'src/main.ts'), '--config', file],
    /"address":"(http:\/\/[^"]+)"/, { TICKER_LOG_LEVEL: 'info', ...env })
  return {
    ...started,
    async stop () {
      await started.stop()
      rmSync(dir, { recursive: true, force: true })
    }
  }
}
