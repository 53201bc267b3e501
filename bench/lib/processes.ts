/** Servers under test as child processes: started, measured (CPU, memory), stopped by PID. */
import { spawn, type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
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
      child.stdout?.resume()
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

/** CPU time (user + system) a process has used, ms, from /proc/<pid>/stat (Linux). */
export function cpuMsOf (pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? []
  const ticks = Number(fields[11]) + Number(fields[12]) // utime, stime (fields 14 and 15)
  return ticks * 10 // USER_HZ is 100 on Linux
}

/** Resident memory of a process, bytes, from /proc/<pid>/status. */
export function rssOf (pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return Number(match?.[1] ?? NaN) * 1024
}
