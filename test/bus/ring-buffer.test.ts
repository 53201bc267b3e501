import { test } from 'node:test'
import assert from 'node:assert/strict'
import { RingBuffer } from '../../src/bus/ring-buffer.ts'
import type { TickerEvent } from '../../src/bus/types.ts'

const ev = (seq: number, time = 0): TickerEvent => ({ id: `e-${seq}`, seq, topic: 't', time, data: seq, json: String(seq) })
const seqs = (events: TickerEvent[]): number[] => events.map((e) => e.seq)

test('keeps the newest `capacity` events, oldest first, and remembers what it evicted', () => {
  const ring = new RingBuffer(3, 1e9)
  for (const seq of [2, 4, 6, 8, 10]) ring.push(ev(seq), 0)
  assert.equal(ring.size, 3)
  assert.deepEqual(seqs(ring.tail(10)), [6, 8, 10])
  assert.equal(ring.evictedSeq, 4)
  assert.equal(ring.latest()?.seq, 10)
})

test('after() finds the first later event by binary search, across the wrap point', () => {
  const ring = new RingBuffer(4, 1e9)
  for (let seq = 1; seq <= 7; seq += 1) ring.push(ev(seq * 10), 0)
  assert.deepEqual(seqs(ring.after(0)), [40, 50, 60, 70])
  assert.deepEqual(seqs(ring.after(45)), [50, 60, 70])
  assert.deepEqual(seqs(ring.after(50)), [60, 70])
  assert.deepEqual(seqs(ring.after(50, 1)), [60])
  assert.deepEqual(seqs(ring.after(70)), [])
  assert.deepEqual(seqs(ring.tail(2)), [60, 70])
})

test('events older than maxAge are dropped when time is passed in', () => {
  const ring = new RingBuffer(10, 1000)
  ring.push(ev(1, 0), 0)
  ring.push(ev(2, 500), 500)
  ring.prune(1200)
  assert.deepEqual(seqs(ring.tail(10)), [2])
  assert.equal(ring.evictedSeq, 1)
  ring.push(ev(3, 3000), 3000)
  assert.deepEqual(seqs(ring.tail(10)), [3])
  assert.equal(ring.evictedSeq, 2)
})

test('an empty buffer answers empty', () => {
  const ring = new RingBuffer(2, 1000)
  assert.equal(ring.latest(), undefined)
  assert.deepEqual(ring.after(0), [])
  assert.equal(ring.evictedSeq, 0)
  assert.throws(() => new RingBuffer(0, 1000), RangeError)
})
