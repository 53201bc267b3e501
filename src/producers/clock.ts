/**
 * clock: the time, every second by default.
 *
 *     { "iso": "2026-11-22T03:04:05.000Z", "epochMs": 1795316645000,
 *       "zones": [{ "zone": "Europe/Paris", "date": "2026-11-22", "time": "04:04:05", "offset": "GMT+1" }] }
 */
import type { Producer } from './types.ts'

export interface ClockOptions {
  readonly schedule: string
  readonly topic: string
  readonly timeoutMs: number
  readonly timeZones: readonly string[]
}

export interface ZoneTime {
  readonly zone: string
  /** YYYY-MM-DD in the zone. */
  readonly date: string
  /** HH:MM:SS, 24-hour, in the zone. */
  readonly time: string
  /** Such as GMT+1. */
  readonly offset: string
}

export interface ClockTick {
  readonly iso: string
  readonly epochMs: number
  readonly zones: readonly ZoneTime[]
}

/** A formatter per zone, built once: Intl.DateTimeFormat construction is the costly part. */
function zoneFormatter (zone: string): (epochMs: number) => ZoneTime {
  const format = new Intl.DateTimeFormat('en-CA', {
    timeZone: zone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    timeZoneName: 'shortOffset'
  })
  return (epochMs) => {
    const parts: Record<string, string> = {}
    for (const { type, value } of format.formatToParts(epochMs)) parts[type] = value
    return {
      zone,
      date: `${parts.year}-${parts.month}-${parts.day}`,
      time: `${parts.hour}:${parts.minute}:${parts.second}`,
      offset: parts.timeZoneName ?? ''
    }
  }
}

/** The tick for `epochMs`; pure. */
export function clockTick (epochMs: number, zones: ReadonlyArray<(epochMs: number) => ZoneTime>): ClockTick {
  return { iso: new Date(epochMs).toISOString(), epochMs, zones: zones.map((z) => z(epochMs)) }
}

export function createClockProducer (options: ClockOptions): Producer {
  const zones = options.timeZones.map(zoneFormatter)
  return {
    name: 'clock',
    schedule: options.schedule,
    timeoutMs: options.timeoutMs,
    topics: [options.topic],
    async run (ctx) {
      await ctx.publish(options.topic, clockTick(ctx.now(), zones))
    }
  }
}
