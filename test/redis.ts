/**
 * A real redis-server for tests: its own loopback port and directory, no persistence, stopped by
 * its PID when the test ends. Without redis-server the Redis suites are skipped, except in CI
 * (CI=true), where they fail.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort, waitUntil } from './helper.ts'

const REDIS_SERVER = 'redis-server'

/** Why the Redis suites cannot run here, or undefined when they can. */
export function redisMissing (): string | undefined {
  const found = spawnSync(REDIS_SERVER, ['--version'], { encoding: 'utf8' })
  if (found.status === 0) return undefined
  const why = `${REDIS_SERVER} is not installed (apt-get install redis-server)`
  if (process.env.CI === 'true') throw new Error(`${why}: CI runs every suite`)
  return why
}

export interface RedisServer {
  readonly url: string
  readonly port: number
  readonly pid: number
  /** Stops the server (SIGTERM, by its PID) and waits for it to exit. */
  stop (): Promise<void>
  /** Starts it again on the same port, empty (no persistence): as a Redis that lost its data. */
  restart (): Promise<void>
  /** Starts it (again) on the same port after stop(). */
  start (): Promise<void>
  /** Stops it for good and removes its directory. */
  dispose (): Promise<void>
  /** Freezes it (SIGSTOP): connections stay open and get no answer, as behind a partition. */
  freeze (): void
  /** Lets a frozen server go on (SIGCONT), its data intact. */
  thaw (): void
}

async function launch (port: number, dir: string): Promise<ChildProcess> {
  const child = spawn(REDIS_SERVER, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], {
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let out = ''
  child.stdout?.on('data', (d: Buffer) => { out += d.toString() })
  const exited = once(child, 'exit').then(() => { throw new Error(`redis-server exited: ${out.slice(-500)}`) })
  await Promise.race([waitUntil(() => out.includes('Ready to accept connections'), 10_000, 'redis-server to start'), exited])
  return child
}

/**
 * A redis-server on a free loopback port, disposed of when the test ends; without a test, the
 * caller disposes of it (a suite-level server, from a top-level `after`).
 */
export async function startRedis (t?: { after: (fn: () => Promise<void>) => void }): Promise<RedisServer> {
  const port = await freePort()
  const dir = mkdtempSync(join(tmpdir(), 'ticker-redis-'))
  let child = await launch(port, dir)
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return
    const exited = once(child, 'exit')
    child.kill('SIGCONT') // a frozen server handles nothing, SIGTERM included
    child.kill('SIGTERM')
    await exited
  }
  const dispose = async (): Promise<void> => {
    await stop()
    rmSync(dir, { recursive: true, force: true })
  }
  t?.after(dispose)
  return {
    dispose,
    url: `redis://127.0.0.1:${port}`,
    port,
    get pid () { return child.pid as number },
    stop,
    async restart () {
      await stop()
      child = await launch(port, dir)
    },
    async start () {
      child = await launch(port, dir)
    },
    freeze () { child.kill('SIGSTOP') },
    thaw () { child.kill('SIGCONT') }
  }
}
