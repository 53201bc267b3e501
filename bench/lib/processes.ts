/** Servers under test as child processes: started, measured (CPU, memory), stopped by PID. */
import { spawn, type ChildProcess } from 'node:child_process'
import { createWriteStream, readdirSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

export const ROOT = fileURLToPath(new URL('../..', import.meta.url))

export interface Started {
  readonly child: ChildProcess
  readonly url: string
  stop (): Promise<void>
}

/** Spawns `command args` and waits for a stdout line matching `ready` (its first group is the URL). */
export async function startProcess (command: string, args: string[], ready: RegExp, env: Record<string, string> = {}): Promise<Started> {
  const child = spawn(command, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const url = await new Promise<string>((resolve, reject) => {
    let out = ''
    const onData = (d: Buffer): void => {
      out += d.toString()
      const match = ready.exec(out)
      if (match?.[1] === undefined) return
      child.stdout?.off('data', onData)
      // BENCH_SERVER_STDOUT=<file>: what the server prints from here on (such as --trace-gc lines).
      const keep = process.env.BENCH_SERVER_STDOUT
      if (keep === undefined) child.stdout?.resume()
      else child.stdout?.pipe(createWriteStream(keep, { flags: 'a' }))
      resolve(match[1])
    }
    child.stdout?.on('data', onData)
    child.once('exit', (code) => reject(new Error(`${command} exited with ${code} before it was ready: ${out.slice(-2000)}`)))
  })
  return {
    child,
    url,
    async stop () {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
      await exited
    }
  }
}

/** `pid` and its child processes (an nginx master and its workers), from /proc (Linux). */
function withChildren (pid: number): number[] {
  const pids = [pid]
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const ppid = Number(readFileSync(`/proc/${entry}/stat`, 'utf8').split(') ')[1]?.split(' ')[1])
      if (ppid === pid) pids.push(Number(entry))
    } catch {} // the process ended while we looked
  }
  return pids
}

/** CPU time (user + system) a process and its children have used, ms, from /proc/<pid>/stat. */
export function cpuMsOf (pid: number): number {
  let ticks = 0
  for (const p of withChildren(pid)) {
    const fields = readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? []
    ticks += Number(fields[11]) + Number(fields[12]) // utime, stime (fields 14 and 15)
  }
  return ticks * 10 // USER_HZ is 100 on Linux
}

/** Resident memory of a process and its children, bytes, from /proc/<pid>/status. */
export function rssOf (pid: number): number {
  let bytes = 0
  for (const p of withChildren(pid)) {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${p}/status`, 'utf8'))
    bytes += Number(match?.[1] ?? 0) * 1024
  }
  return bytes
}
