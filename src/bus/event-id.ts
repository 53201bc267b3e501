/**
 * Event IDs: `<epoch>-<seq>`, e.g. `mfz2k1c9a3f0-1742`.
 *
 * - `epoch` names one life of the bus's history (base-36 start time plus random bits), so an ID
 *   from before a restart is recognised instead of misread (ARCHITECTURE.md invariant 2).
 * - `seq` is one counter across all topics, so one ID resumes a multiplexed stream (invariant 3).
 *
 * Clients treat IDs as opaque; they also arrive from clients (Last-Event-ID), so parsing is strict.
 */
import { randomBytes } from 'node:crypto'

export interface ParsedId {
  readonly epoch: string
  readonly seq: number
}

const ID_PATTERN = /^([a-z0-9]{1,24})-(0|[1-9][0-9]{0,15})$/
const MAX_ID_LENGTH = 48

/** A new epoch: time-ordered and unique enough that two lives never share one. */
export function newEpoch (nowMs: number = Date.now()): string {
  return nowMs.toString(36) + randomBytes(3).toString('hex')
}

export function formatId (epoch: string, seq: number): string {
  return `${epoch}-${seq}`
}

/** The parts of `id`, or undefined for anything that is not an ID this server could have made. */
export function parseId (id: string): ParsedId | undefined {
  if (id.length > MAX_ID_LENGTH) return undefined
  const match = ID_PATTERN.exec(id)
  if (match === null) return undefined
  const seq = Number(match[2])
  if (!Number.isSafeInteger(seq)) return undefined
  return { epoch: match[1] as string, seq }
}
