import { test } from 'node:test'
import assert from 'node:assert/strict'
import { formatId, newEpoch, parseId } from '../../src/bus/event-id.ts'

test('an ID round-trips through format and parse', () => {
  const epoch = newEpoch(1_700_000_000_000)
  assert.deepEqual(parseId(formatId(epoch, 42)), { epoch, seq: 42 })
})

test('epochs differ between lives started in the same millisecond', () => {
  assert.notEqual(newEpoch(5), newEpoch(5))
})

test('hostile or foreign IDs are rejected, not misread', () => {
  for (const bad of [
    '', '-', '42', 'abc', 'abc-', '-1', 'abc-01', 'abc--1', 'ABC-1', 'abc-1.5', 'abc-1e3', 'abc-1\nid: x',
    'abc-99999999999999999', `${'a'.repeat(100)}-1`, 'abc-1 ', ' abc-1', 'a_b-1', '1-2-3'
  ]) {
    assert.equal(parseId(bad), undefined, JSON.stringify(bad))
  }
})
