/**
 * Ticker as a separate process for benchmarks: its own event loop, CPU and file descriptors,
 * like production. Started from source with tsx; stopped by its PID.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { stringify } from 'yaml'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))

export interface TickerProcess {
  readonly url: string
  readonly child: ChildProcess
  stop (): Promise<void>
}

/** Starts Ticker with `config` merged over the shipped defaults (producers and feeds off unless given). */
export async function startTicker (config: Record<string, unknown>, env: Record<string, string> = {}): Promise<TickerProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'ticker-bench-'))
  const file = join(dir, 'config.yaml')
  writeFileSync(file, stringify({
    server: { port: 0 },
    log: { level: 'warn', format: 'json' },
    producers: { clock: { enabled: false }, system: { enabled: false }, feeds: [] },
    ...config
  }))
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', '--config', file], {
    cwd: ROOT,
    env: { ...process.env, TICKER_LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'inherit']
  })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const url = await new Promise<string>((resolve, reject) => {
    let out = ''
    const onData = (d: Buffer): void => {
      out += d.toString()
      const match = /"address":"(http:\/\/[^"]+)"/.exec(out)
      if (match?.[1] !== undefined) {
        child.stdout?.off('data', onData)
        child.stdout?.resume()
        resolve(match[1])
      }
    }
    child.stdout?.on('data', onData)
    child.once('exit', (code) => reject(new Error(`ticker exited with ${code} before listening: ${out}`)))
  })
  return {
    url,
    child,
    async stop () {
      if (child.exitCode === null) child.kill('SIGTERM')
      await exited
      rmSync(dir, { recursive: true, force: true })
    }
  }
}
