/** system: the system producer's sample: CPU, memory, load (1, 5, 15 min), network, and a chart of CPU and memory. */
import { chartModel } from '../chart-svg.ts'
import { numberAt } from '../fields.ts'
import { formatBytes, formatPercent, NO_VALUE } from '../format.ts'
import { asObject, num } from './data.ts'
import type { TileKindSpec } from './types.ts'

export const system: TileKindSpec = {
  settings: [],
  keep: (_tile, ui) => ui.chartPoints,
  view ({ tile, events }) {
    const kept = events(tile.topic)
    const latest = kept.at(-1)
    if (latest === undefined) return { system: null }
    const s = asObject(latest.data)
    const rx = num(s.netRxBytesPerSecond)
    const tx = num(s.netTxBytesPerSecond)
    const load = (value: unknown): string => (Number.isFinite(num(value)) ? num(value).toFixed(2) : NO_VALUE)
    return {
      system: {
        cpu: formatPercent(num(s.cpuPercent)),
        mem: formatPercent(num(s.memUsedPercent)),
        memDetail: `${formatBytes(num(s.memUsedBytes))} of ${formatBytes(num(s.memTotalBytes))}`,
        load: [['1 min', s.load1], ['5 min', s.load5], ['15 min', s.load15]].map(([span, value]) => ({ span, value: load(value) })),
        net: Number.isNaN(rx) ? null : { rx: `↓ ${formatBytes(rx)}/s`, tx: `↑ ${formatBytes(tx)}/s` },
        chart: chartModel({
          series: ['CPU', 'Memory'],
          samples: kept.map((e) => ({ time: e.time, values: [numberAt(e.data, 'cpuPercent'), numberAt(e.data, 'memUsedPercent')] })),
          min: 0,
          max: 100,
          format: { style: 'percent' }
        })
      }
    }
  }
}
