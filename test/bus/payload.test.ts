import { test } from 'node:test'
import assert from 'node:assert/strict'
import { MAX_DATA_DEPTH, encodePayload, jsonDepth } from '../../src/bus/payload.ts'

test('jsonDepth counts arrays and objects, never brackets inside strings', () => {
  const cases: Array<[json: string, depth: number]> = [
    ['1', 0],
    ['"[[[{{{"', 0],
    ['[]', 1],
    ['{"a":[1,{"b":[]}]}', 4],
    ['["\\"[[[", [2]]', 2],
    ['["\\\\", [[3]]]', 3],
    ['[[],[],[[]]]', 3]
  ]
  for (const [json, depth] of cases) assert.equal(jsonDepth(json), depth, json)
})

test('encodePayload: JSON text of the data, refused when not JSON or nested too deep', () => {
  assert.equal(encodePayload({ a: [1, 'x'] }), '{"a":[1,"x"]}')
  const nested = (depth: number): unknown => {
    let value: unknown = 1
    for (let i = 0; i < depth; i++) value = [value]
    return value
  }
  assert.equal(jsonDepth(encodePayload(nested(MAX_DATA_DEPTH))), MAX_DATA_DEPTH)
  assert.throws(() => encodePayload(nested(MAX_DATA_DEPTH + 1)), { code: 'TICKER_ERR_DATA_TOO_DEEP', statusCode: 400 })
  assert.throws(() => encodePayload(nested(100_000)), { code: 'TICKER_ERR_DATA_TOO_DEEP' }, 'past the stack too')
  assert.throws(() => encodePayload(undefined), { code: 'TICKER_ERR_DATA_NOT_JSON' })
  assert.throws(() => encodePayload(1n), { code: 'TICKER_ERR_DATA_NOT_JSON' })
})
