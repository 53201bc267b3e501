/**
 * The Lua scripts of the Redis backend, its keys, and the commands that run the scripts. Each
 * script runs atomically in Redis, so IDs, order, trimming and topic creation are decided in one
 * place for every instance.
 *
 * Keys (all under one hash tag, `{prefix}`, so a cluster keeps them in one slot):
 *
 *     {prefix}:epoch         string   the history's epoch; made by the first publish after it is lost
 *     {prefix}:seq           counter  the last seq handed out (one order across all topics)
 *     {prefix}:events        stream   every event, `<seq>-0`: e(poch) p(topic) t(ime) d(ata); what
 *                                     each instance's reader follows; trimmed to about streamCapacity
 *     {prefix}:t:<topic>     stream   one topic's history, `<seq>-0`: t(ime) d(ata); trimmed to
 *                                     the topic's capacity and age
 *     {prefix}:evicted       hash     topic → the highest ID trimmed from its stream (or, for a
 *                                     family topic dropped when idle, its last event)
 *     {prefix}:dropped       zset     dropped family topics by last seq: bounds their marks
 *     {prefix}:followed      zset     family topics some instance's streams follow, until when
 *     {prefix}:topics        zset     topics created by publishing, scored by the seq that created
 *                                     them (declared ones are not in it)
 *     {prefix}:lease:<p>     string   who runs producer p now, with its fencing token (see below)
 *     {prefix}:fence:<p>     counter  the latest fencing token granted for producer p
 *     {prefix}:state         hash     producer → its state as JSON (a feed's seen items, ETag, backoff)
 */

import type { Redis, Result } from 'ioredis'

declare module 'ioredis' {
  interface RedisCommander<Context> {
    tickerPublish (...args: Array<string | number>): Result<[string, number, number], Context>
    tickerEpochRotate (epoch: string, seen: string, next: string): Result<string, Context>
    tickerLeaseAcquire (lease: string, fence: string, instance: string, ttlMs: number): Result<[number, string], Context>
    tickerLeaseRenew (lease: string, instance: string, token: number, ttlMs: number): Result<number, Context>
    tickerLeaseRelease (lease: string, instance: string, token: number): Result<number, Context>
    tickerStateSave (state: string, fence: string, producer: string, json: string, token: number): Result<number, Context>
    tickerTopicDropIdle (topic: string, topics: string, evicted: string, dropped: string, followed: string, name: string, idleMs: number, maxMarks: number): Result<number, Context>
    tickerTopicsFollowed (followed: string, heldForMs: number, ...topics: string[]): Result<number, Context>
  }
}

/** The keys of one history (see above). */
export class Keys {
  readonly epoch: string
  readonly seq: string
  readonly events: string
  readonly evicted: string
  readonly dropped: string
  readonly followed: string
  readonly topics: string
  readonly state: string
  readonly #prefix: string

  constructor (prefix: string) {
    this.#prefix = `{${prefix}}`
    this.epoch = `${this.#prefix}:epoch`
    this.seq = `${this.#prefix}:seq`
    this.events = `${this.#prefix}:events`
    this.evicted = `${this.#prefix}:evicted`
    this.dropped = `${this.#prefix}:dropped`
    this.followed = `${this.#prefix}:followed`
    this.topics = `${this.#prefix}:topics`
    this.state = `${this.#prefix}:state`
  }

  topic (name: string): string { return `${this.#prefix}:t:${name}` }
  lease (producer: string): string { return `${this.#prefix}:lease:${producer}` }
  fence (producer: string): string { return `${this.#prefix}:fence:${producer}` }
}

/**
 * KEYS: epoch, seq, events, topic stream, topics, evicted, fence (of the publishing producer; any
 * key when none).
 * ARGV: topic, json, now (ms; '' for Redis's own clock), capacity, maxAgeMs, streamCapacity,
 *       candidate epoch, declared ('1' or '0'), createAllowed ('1' or '0'), most topics that may
 *       be created, lease token ('' when not published under a lease).
 * Returns {epoch, seq, time}; errors TICKER_TOPIC_UNKNOWN, TICKER_TOPIC_LIMIT and TICKER_FENCED.
 * Every check comes before the first write: a refused publish changes nothing.
 */
export const PUBLISH = `
if ARGV[11] ~= '' and redis.call('GET', KEYS[7]) ~= ARGV[11] then return redis.error_reply('TICKER_FENCED') end
local create = ARGV[8] == '0' and not redis.call('ZSCORE', KEYS[5], ARGV[1])
if create then
  if ARGV[9] == '0' then return redis.error_reply('TICKER_TOPIC_UNKNOWN') end
  if redis.call('ZCARD', KEYS[5]) >= tonumber(ARGV[10]) then return redis.error_reply('TICKER_TOPIC_LIMIT') end
end
local epoch = redis.call('GET', KEYS[1])
if not epoch then
  epoch = ARGV[7]
  redis.call('SET', KEYS[1], epoch)
end
local now
if ARGV[3] == '' then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
else
  now = tonumber(ARGV[3])
end
-- One more than the counter and than every stream's last event: the counter alone may be lost.
local seq = redis.call('INCR', KEYS[2])
for _, key in ipairs({KEYS[3], KEYS[4]}) do
  local top = redis.call('XREVRANGE', key, '+', '-', 'COUNT', 1)[1]
  if top then
    local last = tonumber(string.match(top[1], '^(%d+)'))
    if seq <= last then
      seq = last + 1
      redis.call('SET', KEYS[2], seq)
    end
  end
end
if create then redis.call('ZADD', KEYS[5], seq, ARGV[1]) end
local id = seq .. '-0'
local capacity = tonumber(ARGV[4])
local length = redis.call('XLEN', KEYS[4])
if length >= capacity then
  local gone = redis.call('XRANGE', KEYS[4], '-', '+', 'COUNT', length - capacity + 1)
  redis.call('HSET', KEYS[6], ARGV[1], gone[#gone][1])
end
redis.call('XADD', KEYS[4], 'MAXLEN', '=', capacity, id, 't', now, 'd', ARGV[2])
local cutoff = now - tonumber(ARGV[5])
local oldest = redis.call('XRANGE', KEYS[4], '-', '+', 'COUNT', 1)[1]
if tonumber(oldest[2][2]) < cutoff then
  local from = '-'
  local last = nil
  local young = nil
  while young == nil do
    local page = redis.call('XRANGE', KEYS[4], from, '+', 'COUNT', 100)
    for _, entry in ipairs(page) do
      if tonumber(entry[2][2]) >= cutoff then
        young = entry[1]
        break
      end
      last = entry[1]
    end
    from = '(' .. last
  end
  redis.call('XTRIM', KEYS[4], 'MINID', young)
  redis.call('HSET', KEYS[6], ARGV[1], last)
end
redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[6], id, 'e', epoch, 'p', ARGV[1], 't', now, 'd', ARGV[2])
return {epoch, seq, now}
`

/**
 * KEYS: followed. ARGV: ms to hold, topics. Marks topics as followed (by some instance's
 * streams) until now + ms, by Redis's clock, and forgets marks that ran out.
 */
export const TOPICS_FOLLOWED = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
for i = 2, #ARGV do redis.call('ZADD', KEYS[1], 'GT', now + tonumber(ARGV[1]), ARGV[i]) end
return #ARGV - 1
`

/**
 * KEYS: topic stream, topics, evicted, dropped, followed. ARGV: topic, idle ms, most drop marks
 * kept. A topic some instance's streams follow (see TOPICS_FOLLOWED) is kept.
 * Drops a family topic (its history and its place among created topics) unless it had an event
 * within the idle time (by Redis's clock). Its eviction mark becomes its last event, so a client
 * resuming from before that is told `reset`, even once the topic is made again; the marks of
 * dropped topics are bounded (the oldest go). Returns 1 when it is gone (now or before), 0 when kept.
 */
export const TOPIC_DROP_IDLE = `
local top = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)[1]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if top and now - tonumber(top[2][2]) < tonumber(ARGV[2]) then return 0 end
local held = redis.call('ZSCORE', KEYS[5], ARGV[1])
if held and tonumber(held) > now then return 0 end
if top then
  redis.call('HSET', KEYS[3], ARGV[1], top[1])
  redis.call('ZADD', KEYS[4], tonumber(string.match(top[1], '^(%d+)')), ARGV[1])
  if redis.call('ZCARD', KEYS[4]) > tonumber(ARGV[3]) then
    local oldest = redis.call('ZPOPMIN', KEYS[4])
    redis.call('HDEL', KEYS[3], oldest[1])
  end
end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
return 1
`

/**
 * KEYS: epoch. ARGV: the epoch the caller saw, a new one. Replaces the epoch only if it is still
 * the one the caller saw (several instances that notice the same rollback agree on one new epoch).
 * Returns the epoch now.
 */
export const EPOCH_ROTATE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('SET', KEYS[1], ARGV[2]) end
return redis.call('GET', KEYS[1])
`

/**
 * Producer leases: `{prefix}:lease:<producer>` holds `<instance> <token>` with a TTL;
 * `{prefix}:fence:<producer>` counts every grant, so each holder has a token no earlier holder has.
 * PUBLISH refuses an event whose token is not the producer's latest (a holder that paused and
 * lost its lease cannot publish after the next one took over).
 */

/**
 * KEYS: lease, fence. ARGV: instance, ttlMs. Returns {token, holder}: token 0 when another holds it.
 * A token is the larger of one past the last and Redis's clock in µs: so even when the counter
 * went back or is gone (Redis restored from an older snapshot, a replica that missed writes, data
 * lost), no token granted later equals or undercuts one granted before.
 */
export const LEASE_ACQUIRE = `
local held = redis.call('GET', KEYS[1])
if held then return {0, held} end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local token = math.max((tonumber(redis.call('GET', KEYS[2])) or 0) + 1, now)
local digits = string.format('%.0f', token) -- all digits (Lua would write 1.79e+15)
redis.call('SET', KEYS[2], digits)
local value = ARGV[1] .. ' ' .. digits
redis.call('SET', KEYS[1], value, 'PX', ARGV[2])
return {token, value}
`

/** KEYS: lease. ARGV: instance, token, ttlMs. Returns 1 when renewed, 0 when the lease is another's. */
export const LEASE_RENEW = `
if redis.call('GET', KEYS[1]) == ARGV[1] .. ' ' .. ARGV[2] then
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  return 1
end
return 0
`

/** KEYS: lease. ARGV: instance, token. Gives the lease up if it is still this holder's. */
export const LEASE_RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] .. ' ' .. ARGV[2] then return redis.call('DEL', KEYS[1]) end
return 0
`

/**
 * KEYS: state hash, fence. ARGV: producer, JSON, lease token. Saves a producer's state unless a
 * later holder took the producer over (then returns 0).
 */
export const STATE_SAVE = `
if redis.call('GET', KEYS[2]) ~= ARGV[3] then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
`

/** Makes the scripts above commands of `redis` (sent by hash once Redis knows them). */
export function defineScripts (redis: Redis): void {
  redis.defineCommand('tickerPublish', { numberOfKeys: 7, lua: PUBLISH })
  redis.defineCommand('tickerLeaseAcquire', { numberOfKeys: 2, lua: LEASE_ACQUIRE })
  redis.defineCommand('tickerLeaseRenew', { numberOfKeys: 1, lua: LEASE_RENEW })
  redis.defineCommand('tickerLeaseRelease', { numberOfKeys: 1, lua: LEASE_RELEASE })
  redis.defineCommand('tickerStateSave', { numberOfKeys: 2, lua: STATE_SAVE })
  redis.defineCommand('tickerEpochRotate', { numberOfKeys: 1, lua: EPOCH_ROTATE })
  redis.defineCommand('tickerTopicDropIdle', { numberOfKeys: 5, lua: TOPIC_DROP_IDLE })
  redis.defineCommand('tickerTopicsFollowed', { numberOfKeys: 1, lua: TOPICS_FOLLOWED })
}
