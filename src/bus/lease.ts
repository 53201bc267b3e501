/**
 * Run coordination: which instance runs each scheduled producer.
 *
 * - One instance (the memory backend): it runs every producer (soloCoordinator).
 * - Several on Redis (RedisLeases): each producer has a lease in Redis with a TTL. An instance
 *   tries to take the free ones and renews its own every TTL/3; it runs a producer only while its
 *   lease is surely still valid (renewed within the TTL, by its own clock). A holder that dies
 *   or is stopped (which gives its leases up) is replaced within the TTL plus one try, under 2×TTL.
 * - Each grant has a fencing token, one higher than any before; the bus refuses an event
 *   published under a token that is no longer the latest, so a holder that paused (GC, a stalled
 *   VM) past its TTL cannot publish after the next one started.
 */
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
    onLease: () => {}, // it holds every lease from the start
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
  /** Until when the lease is surely valid (performance-independent: Date.now()). */
  validUntil: number
}

export interface RedisLeasesOptions {
  readonly redis: Redis
  readonly keys: LeaseKeys
  readonly instance: string
  readonly producers: readonly string[]
  readonly ttlMs: number
  readonly log: BusLog
  readonly now?: () => number
}

export class RedisLeases implements RunCoordinator {
  readonly instance: string
  readonly #options: RedisLeasesOptions
  readonly #now: () => number
  readonly #held = new Map<string, Held>()
  readonly #runners = new Map<string, string>()
  readonly #leaseListeners: Array<(producer: string) => void> = []
  readonly #timer: NodeJS.Timeout
  #tick: Promise<void> = Promise.resolve()
  #stopped = false

  constructor (options: RedisLeasesOptions) {
    this.instance = options.instance
    this.#options = options
    this.#now = options.now ?? Date.now
    this.#timer = setInterval(() => { this.#tick = this.#renewOrTake() }, Math.max(50, Math.floor(options.ttlMs / 3))).unref()
    this.#tick = this.#renewOrTake()
  }

  leaseFor (producer: string): RunLease | undefined {
    const held = this.#held.get(producer)
    return held !== undefined && this.#now() < held.validUntil ? { producer, token: held.token } : undefined
  }

  runnerOf (producer: string): string | undefined {
    return this.#runners.get(producer)
  }

  onLease (listener: (producer: string) => void): void {
    this.#leaseListeners.push(listener)
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
        if (token === 0 || this.#stopped) return
        this.#held.set(producer, { token, validUntil: asked + ttlMs })
        log.info({ producer, token }, 'took the lease of a producer: it runs on this instance')
        for (const listener of this.#leaseListeners) listener(producer)
      } catch {
        // Redis out of reach: the lease runs out on its own (leaseFor says so); the bus logged the loss.
      }
    }))
  }
}
