/** Reading Prometheus text exposition in tests. */

/** The value of `name` with exactly `labels` (order-insensitive), or undefined when absent. */
export function sample (text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`).sort().join(',')
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line)
    if (match === null || match[1] !== name) continue
    const have = (match[2] ?? '').split(/,(?=[a-zA-Z_]+=")/).filter(Boolean).sort().join(',')
    if (have === wanted) return Number(match[3])
  }
  return undefined
}

export async function scrape (url: string, headers: Record<string, string> = {}): Promise<string> {
  const res = await fetch(`${url}/metrics`, { headers })
  if (res.status !== 200) throw new Error(`/metrics answered ${res.status}`)
  return res.text()
}
