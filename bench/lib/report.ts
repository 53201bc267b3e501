/** Writing a benchmark's results into its own section of docs/BENCHMARKS.md. */
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import { fileURLToPath } from 'node:url'

const FILE = fileURLToPath(new URL('../../docs/BENCHMARKS.md', import.meta.url))

const HEADER = `# Benchmarks

Measured with \`npm run bench\` (each scenario can also run alone: the command is given with it).
Figures drift between runs on a shared machine, so each scenario compares against a baseline
measured in the same run, and the ratio is the figure to read. Timings are never asserted in tests.
`

/** The machine, for the record under each result. */
export function machine (): string {
  return `${os.cpus().length} × ${os.cpus()[0]?.model.trim() ?? 'CPU'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}`
}

/** Replaces (or appends) the section `name` of docs/BENCHMARKS.md with `body`. */
export function writeSection (name: string, body: string): void {
  const start = `<!-- bench:${name}:start -->`
  const end = `<!-- bench:${name}:end -->`
  const section = `${start}\n${body.trim()}\n${end}`
  let text = existsSync(FILE) ? readFileSync(FILE, 'utf8') : HEADER
  const from = text.indexOf(start)
  const to = text.indexOf(end)
  text = from !== -1 && to !== -1
    ? text.slice(0, from) + section + text.slice(to + end.length)
    : `${text.trimEnd()}\n\n${section}\n`
  writeFileSync(FILE, text)
}

export function median (values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid] as number : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2
}
