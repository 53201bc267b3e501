import { test } from 'node:test'
import assert from 'node:assert/strict'
import { MemoryBus } from '../../src/bus/memory-bus.ts'
import { busContract } from './contract.ts'

busContract('memory', async (rules) => new MemoryBus(rules))

test('memory: age eviction follows the injected clock', async () => {
  let now = 1_000_000
  const bus = new MemoryBus({
    declared: { a: { capacity: 10, maxAgeSeconds: 60 } },
    allowUndeclared: false,
    defaults: { capacity: 10, maxAgeSeconds: 60 },
    maxTopics: 10,
    now: () => now
  })
  const old = await bus.publish('a', 'old')
  now += 1000
  await bus.publish('a', 'missed')
  now += 60_001
  assert.equal(await bus.latest('a'), undefined)
  const plan = await bus.replay(['a'], old.id)
  assert.deepEqual(plan.reset, { topics: ['a'], reason: 'evicted' })
})

test('memory: a throwing listener does not stop the others', async () => {
  const failures: unknown[] = []
  const bus = new MemoryBus({
    declared: { a: { capacity: 10, maxAgeSeconds: 60 } },
    allowUndeclared: false,
    defaults: { capacity: 10, maxAgeSeconds: 60 },
    maxTopics: 10,
    onListenerError: (err) => failures.push(err)
  })
  const seen: unknown[] = []
  bus.subscribe(() => { throw new Error('boom') })
  bus.subscribe((e) => seen.push(e.data))
  await bus.publish('a', 1)
  assert.deepEqual(seen, [1])
  assert.equal(failures.length, 1)
})
