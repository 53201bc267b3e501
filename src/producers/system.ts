/**
 * system: host and process figures, every 2 s by default. Numbers only, units in the names,
 * ready to plot. Cheap on purpose: counters from `os`, `fs.statfs` and one read of
 * /proc/net/dev; rates and CPU percentages are differences between two runs.
 */
import { readFile, statfs } from 'node:fs/promises'
import os from 'node:os'
import { monitorEventLoopDelay, performance, type EventLoopUtilization } from 'node:perf_hooks'
import type { Producer } from './types.ts'

export interface SystemOptions {
  readonly schedule: string
  readonly topic: string
  readonly timeoutMs: number
  readonly mounts: readonly string[]
}

export interface DiskUsage {
  readonly mount: string
  readonly totalBytes: number
  readonly usedBytes: number
  readonly availableBytes: number
  readonly usedPercent: number
}

export interface SystemSample {
  /** All cores, 0-100, since the previous run. */
  readonly cpuPercent: number
  readonly cpuCoresPercent: readonly number[]
  readonly load1: number
  readonly load5: number
  readonly load15: number
  readonly memTotalBytes: number
  readonly memAvailableBytes: number
  readonly memUsedBytes: number
  readonly memUsedPercent: number
  readonly uptimeSeconds: number
  readonly disks: readonly DiskUsage[]
  /** Absent where the OS does not expose interface counters (non-Linux). */
  readonly netRxBytesPerSecond?: number
  readonly netTxBytesPerSecond?: number
  readonly processRssBytes: number
  readonly processHeapUsedBytes: number
  /** 0-1: the share of time the event loop was busy since the previous run. */
  readonly eventLoopUtilization: number
  readonly eventLoopDelayMeanMs: number
  readonly eventLoopDelayP99Ms: number
}

interface CpuTimes { busy: number, total: number }
interface NetTotals { rxBytes: number, txBytes: number, atMs: number }

const round = (n: number, digits = 1): number => Number(n.toFixed(digits))
const clampPercent = (n: number): number => round(Math.min(100, Math.max(0, n)))

function cpuTimes (): CpuTimes[] {
  return os.cpus().map(({ times }) => {
    const total = times.user + times.nice + times.sys + times.idle + times.irq
    return { busy: total - times.idle, total }
  })
}

/** Busy share between two samples, per core and overall. */
export function cpuPercents (before: readonly CpuTimes[], after: readonly CpuTimes[]): { total: number, cores: number[] } {
  let busy = 0
  let total = 0
  const cores = after.map((now, i) => {
    const then = before[i] ?? { busy: 0, total: 0 }
    const dBusy = now.busy - then.busy
    const dTotal = now.total - then.total
    busy += dBusy
    total += dTotal
    return dTotal > 0 ? clampPercent((100 * dBusy) / dTotal) : 0
  })
  return { total: total > 0 ? clampPercent((100 * busy) / total) : 0, cores }
}

/**
 * Received and sent bytes over all interfaces but loopback, from /proc/net/dev:
 *
 *     Inter-|   Receive                            |  Transmit
 *      face |bytes    packets errs drop ...         |bytes    packets ...
 *       eth0: 1234567  890 0 0 0 0 0 0               7654321  432 ...
 */
export function parseNetDev (text: string): { rxBytes: number, txBytes: number } {
  let rxBytes = 0
  let txBytes = 0
  for (const line of text.split('\n').slice(2)) {
    const colon = line.indexOf(':')
    if (colon === -1) continue
    const iface = line.slice(0, colon).trim()
    if (iface === 'lo') continue
    const fields = line.slice(colon + 1).trim().split(/\s+/).map(Number)
    rxBytes += fields[0] ?? 0
    txBytes += fields[8] ?? 0
  }
  return { rxBytes, txBytes }
}

async function netTotals (nowMs: number): Promise<NetTotals | undefined> {
  if (process.platform !== 'linux') return undefined
  try {
    return { ...parseNetDev(await readFile('/proc/net/dev', 'utf8')), atMs: nowMs }
  } catch {
    return undefined
  }
}

async function diskUsage (mount: string): Promise<DiskUsage> {
  const s = await statfs(mount)
  const totalBytes = s.blocks * s.bsize
  const availableBytes = s.bavail * s.bsize
  const usedBytes = totalBytes - s.bfree * s.bsize
  return { mount, totalBytes, usedBytes, availableBytes, usedPercent: totalBytes > 0 ? clampPercent((100 * usedBytes) / (usedBytes + availableBytes)) : 0 }
}

export function createSystemProducer (options: SystemOptions): Producer {
  let lastCpu = cpuTimes()
  let lastElu: EventLoopUtilization = performance.eventLoopUtilization()
  let lastNet: NetTotals | undefined
  const delay = monitorEventLoopDelay({ resolution: 20 })
  delay.enable()

  return {
    name: 'system',
    schedule: options.schedule,
    timeoutMs: options.timeoutMs,
    topics: [options.topic],
    async run (ctx) {
      const now = ctx.now()
      const cpuNow = cpuTimes()
      const cpu = cpuPercents(lastCpu, cpuNow)
      lastCpu = cpuNow
      const elu = performance.eventLoopUtilization(lastElu)
      lastElu = performance.eventLoopUtilization()
      const [disks, net] = await Promise.all([
        Promise.all(options.mounts.map(async (mount) => diskUsage(mount).catch((err: unknown) => {
          ctx.log.warn({ err, mount }, 'disk usage unavailable for a configured mount')
          return undefined
        }))),
        netTotals(now)
      ])
      const rates = net !== undefined && lastNet !== undefined && net.atMs > lastNet.atMs
        ? {
            netRxBytesPerSecond: Math.max(0, Math.round((net.rxBytes - lastNet.rxBytes) * 1000 / (net.atMs - lastNet.atMs))),
            netTxBytesPerSecond: Math.max(0, Math.round((net.txBytes - lastNet.txBytes) * 1000 / (net.atMs - lastNet.atMs)))
          }
        : {}
      lastNet = net
      const [load1, load5, load15] = os.loadavg()
      const memTotalBytes = os.totalmem()
      const memAvailableBytes = os.freemem() // MemAvailable on Linux
      const memory = process.memoryUsage()
      const sample: SystemSample = {
        cpuPercent: cpu.total,
        cpuCoresPercent: cpu.cores,
        load1: round(load1 ?? 0, 2),
        load5: round(load5 ?? 0, 2),
        load15: round(load15 ?? 0, 2),
        memTotalBytes,
        memAvailableBytes,
        memUsedBytes: memTotalBytes - memAvailableBytes,
        memUsedPercent: clampPercent((100 * (memTotalBytes - memAvailableBytes)) / memTotalBytes),
        uptimeSeconds: Math.round(os.uptime()),
        disks: disks.filter((d) => d !== undefined),
        ...rates,
        processRssBytes: memory.rss,
        processHeapUsedBytes: memory.heapUsed,
        eventLoopUtilization: round(elu.utilization, 3),
        eventLoopDelayMeanMs: round(Number.isNaN(delay.mean) ? 0 : delay.mean / 1e6, 2),
        eventLoopDelayP99Ms: round(delay.percentile(99) / 1e6, 2)
      }
      delay.reset()
      await ctx.publish(options.topic, sample)
    },
    close () {
      delay.disable()
    }
  }
}
