/**
 * Run coordination: which instance runs each scheduled producer.
 *
 * - One instance (the memory backend): it runs every producer (soloCoordinator).
 * - Several on Redis (RedisLeases): each producer has a lease in Redis with a TTL. An instance
 *   tries to take the free ones and renews its own every TTL/3; it runs a producer only while its
 *   lease is surely still valid: within the TTL of when it asked for the last renewal, by its own
 *   monotonic clock (a wall clock that jumps cannot stretch it). A holder that dies or is stopped
 *   (which gives its leases up) is replaced within the TTL plus one try, under 2×TTL.
 * - Each grant has a fencing token, one higher than any before; the bus refuses an event
 *   published under a token that is no longer the latest, so a holder that paused (GC, a stalled
 *   VM) past its TTL cannot publish after the next one started.
 */
import { performance } from 'node:perf_hooks'
import type { Redis } from 'ioredis'
import type { BusLog, RunCoordinator, RunLease } from './types.ts'

export function soloCoordinator (instance: string): RunCoordinator {
  const states = new Map<string, unknown>()
  return {
    instance,
    leaseFor: (producer) => ({ producer, token: 0 }),
    runnerOf: () => instance,
    loadState: async (producer) => states.get(producer),
    saveState: async ({ producer }, state) => { states.set(producer, state); return true },
    ready: async () => {},
    stop: async () => {}
  }
}

export interface LeaseKeys {
  lease (producer: string): string
  fence (producer: string): string
  readonly state: string
}

interface Held {
  readonly token: number
  /** Until when the lease is surely valid (performance.now()). */
  validUntil: number
}

export interface RedisLeasesOptions {
  readonly redis: Redis
  readonly keys: LeaseKeys
  readonly instance: string
  readonly producers: readonly string[]
  readonly ttlMs: number
  readonly log: BusLog
  /** A monotonic clock, ms. Defaults to performance.now. */
  readonly now?: () => number
}

export class RedisLeases implements RunCoordinator {
  readonly instance: string
  readonly #options: RedisLeasesOptions
  readonly #now: () => number
  readonly #held = new Map<string, Held>()
  readonly #runners = new Map<string, string>()
  readonly #timer: NodeJS.Timeout
  readonly #firstPass: Promise<void>
  #tick: Promise<void> = Promise.resolve()
  /** A pass of renewals is under way: the next interval waits for it (passes never overlap). */
  #passing = false
  #stopped = false

  constructor (options: RedisLeasesOptions) {
    this.instance = options.instance
    this.#options = options
    this.#now = options.now ?? (() => performance.now())
    this.#timer = setInterval(() => { if (!this.#passing) this.#tick = this.#renewOrTake() }, Math.max(50, Math.floor(options.ttlMs / 3))).unref()
    this.#tick = this.#firstPass = this.#renewOrTake()
  }

  async ready (): Promise<void> {
    await this.#firstPass
  }

  leaseFor (producer: string): RunLease | undefined {
    if (this.#stopped) return undefined
    const held = this.#held.get(producer)
    return held !== undefined && this.#now() < held.validUntil ? { producer, token: held.token } : undefined
  }

  runnerOf (producer: string): string | undefined {
    return this.#runners.get(producer)
  }

  async loadState (producer: string): Promise<unknown> {
    const json = await this.#options.redis.hget(this.#options.keys.state, producer)
    return json === null ? undefined : JSON.parse(json) as unknown
  }

  async saveState (lease: RunLease, state: unknown): Promise<boolean> {
    const { redis, keys } = this.#options
    return await redis.tickerStateSave(keys.state, keys.fence(lease.producer), lease.producer, JSON.stringify(state), lease.token) === 1
  }

  async stop (): Promise<void> {
    if (this.#stopped) return
    this.#stopped = true
    clearInterval(this.#timer)
    await this.#tick
    const { redis, keys, instance } = this.#options
    await Promise.all([...this.#held].map(async ([producer, held]) =>
      redis.tickerLeaseRelease(keys.lease(producer), instance, held.token).catch(() => 0)))
    this.#held.clear()
  }

  async #renewOrTake (): Promise<void> {
    this.#passing = true
    try {
      await this.#pass()
    } finally {
      this.#passing = false
    }
  }

  async #pass (): Promise<void> {
    const { redis, keys, instance, producers, ttlMs, log } = this.#options
    await Promise.all(producers.map(async (producer) => {
      if (this.#stopped) return
      const asked = this.#now()
      try {
        const held = this.#held.get(producer)
        if (held !== undefined) {
          if (await redis.tickerLeaseRenew(keys.lease(producer), instance, held.token, ttlMs) === 1) {
            held.validUntil = asked + ttlMs
            return
          }
          this.#held.delete(producer)
          log.warn({ producer, token: held.token }, 'lost the lease of a producer to another instance; it stops here')
        }
        const [token, holder] = await redis.tickerLeaseAcquire(keys.lease(producer), keys.fence(producer), instance, ttlMs)
        this.#runners.set(producer, holder.slice(0, holder.lastIndexOf(' ')))
        if (token === 0) return
        // Held even when stop() came meanwhile: stop() waits for this pass, then gives it up.
        this.#held.set(producer, { token, validUntil: asked + ttlMs })
        if (!this.#stopped) log.info({ producer, token }, 'took the lease of a producer: it runs on this instance')
      } catch {
        // Redis out of reach: the lease runs out on its own (leaseFor says so); the bus logged the loss.
      }
    }))
  }
}
