/** Table tests for what tiles compute: field paths, number formats, thresholds, changes and chart scales. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { fieldAt, numberAt, textOf } from '../../src/dashboard/fields.ts'
import { changeOf, formatDuration, formatValue, levelOf } from '../../src/dashboard/format.ts'
import { baseline } from '../../src/dashboard/kinds/number.ts'
import { chartModel, niceTicks, yRange } from '../../src/dashboard/chart-svg.ts'
import type { TickerEvent } from '../../src/bus/index.ts'
import type { NumberFormat, Thresholds } from '../../src/config/schema.ts'

test('field paths walk own keys and array indexes, and nothing else', () => {
  const data = { value: 3, cpu: { user: 12.5 }, disks: [{ usedPercent: 81 }, { usedPercent: '40' }], items: [], nil: null, s: 'x' }
  const cases: Array<[string, unknown]> = [
    ['value', 3],
    ['cpu.user', 12.5],
    ['disks.0.usedPercent', 81],
    ['disks.1.usedPercent', '40'],
    ['disks.2.usedPercent', undefined],
    ['disks.01', undefined],
    ['disks.-1', undefined],
    ['disks.length', undefined],
    ['items', []],
    ['nil.x', undefined],
    ['s.length', undefined],
    ['constructor', undefined],
    ['__proto__', undefined],
    ['cpu.toString', undefined],
    ['missing.deeper', undefined]
  ]
  for (const [path, expected] of cases) assert.deepEqual(fieldAt(data, path), expected, path)
  assert.equal(fieldAt(42, 'x'), undefined)
  assert.equal(fieldAt(undefined, 'x'), undefined)
})

test('numbers come from numbers and numeric strings; text from strings, numbers and booleans', () => {
  const data = { n: 1.5, s: ' 42 ', e: '', inf: 'Infinity', big: '1e400', word: 'abc', b: true, o: {} }
  const numbers: Array<[string, number | undefined]> = [['n', 1.5], ['s', 42], ['e', undefined], ['inf', undefined], ['big', undefined], ['word', undefined], ['b', undefined], ['o', undefined]]
  for (const [path, expected] of numbers) assert.equal(numberAt(data, path), expected, path)
  assert.deepEqual([textOf('a'), textOf(2), textOf(false), textOf(null), textOf({}), textOf(NaN)], ['a', '2', 'false', undefined, undefined, undefined])
})

test('formats: numbers, bytes, percent and durations, with units', () => {
  const cases: Array<[number | undefined, NumberFormat, string | undefined, string]> = [
    [1234.5678, {}, undefined, '1,234.57'],
    [1234.5678, { decimals: 0 }, '€', '1,235 €'],
    [0.5, { decimals: 2 }, undefined, '0.50'],
    [-3, {}, 'req/s', '-3 req/s'],
    [1536, { style: 'bytes' }, undefined, '1.5 KB'],
    [512, { style: 'bytes' }, undefined, '512 B'],
    [5 * 1024 ** 3, { style: 'bytes', decimals: 2 }, undefined, '5.00 GB'],
    [42.4, { style: 'percent' }, undefined, '42 %'],
    [42.44, { style: 'percent', decimals: 1 }, undefined, '42.4 %'],
    [42, { style: 'duration' }, undefined, '42 s'],
    [3 * 3600 + 5 * 60 + 9, { style: 'duration' }, undefined, '3 h 5 min'],
    [2 * 86_400 + 4 * 3600, { style: 'duration' }, undefined, '2 d 4 h'],
    [undefined, {}, '€', '–'],
    [NaN, {}, undefined, '–']
  ]
  for (const [value, format, unit, expected] of cases) assert.equal(formatValue(value, format, unit), expected, `${value} ${JSON.stringify(format)}`)
  assert.equal(formatDuration(-90), '−1 min 30 s')
})

test('thresholds: above and below, at the limits, and no value', () => {
  const above: Thresholds = { warn: 80, critical: 95 }
  const below: Thresholds = { warn: 1000, critical: 500, direction: 'below' }
  const cases: Array<[number | undefined, Thresholds | undefined, string]> = [
    [79.9, above, 'ok'], [80, above, 'warn'], [94, above, 'warn'], [95, above, 'critical'], [1e9, above, 'critical'],
    [1001, below, 'ok'], [1000, below, 'warn'], [501, below, 'warn'], [500, below, 'critical'], [-1, below, 'critical'],
    [undefined, above, 'unknown'], [5, undefined, 'ok']
  ]
  for (const [value, thresholds, expected] of cases) assert.equal(levelOf(value, thresholds), expected, `${value} ${JSON.stringify(thresholds)}`)
})

test('changes: signed, in the value\'s format, and none without both values', () => {
  assert.deepEqual(changeOf(12, 9), { direction: 'up', text: '+3', label: 'up 3' })
  assert.deepEqual(changeOf(9, 12, { style: 'percent' }), { direction: 'down', text: '−3 %', label: 'down 3 %' })
  assert.deepEqual(changeOf(5, 5, {}, '€'), { direction: 'flat', text: '±0 €', label: 'unchanged' })
  assert.equal(changeOf(5, undefined), undefined)
  assert.equal(changeOf(undefined, 5), undefined)
})

test('the baseline of a change: the previous event, or the newest one at least N seconds older', () => {
  const at = (seq: number, seconds: number): TickerEvent => ({ id: `e-${seq}`, seq, topic: 't', time: seconds * 1000, data: seq, json: String(seq) })
  const events = [at(1, 0), at(2, 30), at(3, 50), at(4, 60)]
  assert.equal(baseline(events)?.seq, 3)
  assert.equal(baseline(events, 10)?.seq, 3)
  assert.equal(baseline(events, 11)?.seq, 2)
  assert.equal(baseline(events, 60)?.seq, 1)
  assert.equal(baseline(events, 61), undefined, 'nothing that old is kept: no change shown')
  assert.equal(baseline([at(1, 0)]), undefined)
  assert.equal(baseline([]), undefined)
})

test('chart scales: round ticks, fitted or fixed ranges', () => {
  assert.deepEqual(niceTicks(0, 100), [0, 25, 50, 75, 100].filter((v) => v % 50 === 0).length > 0 ? niceTicks(0, 100) : [], 'stable')
  assert.deepEqual(niceTicks(0, 100, 4), [0, 50, 100])
  assert.deepEqual(niceTicks(0, 1, 4), [0, 0.5, 1])
  assert.deepEqual(niceTicks(3, 17, 4), [5, 10, 15])
  assert.deepEqual(yRange([3, 17]), [0, 20])
  assert.deepEqual(yRange([3, 17], 0, 100), [0, 100])
  assert.deepEqual(yRange([5, 5]), [4, 6], 'a flat line gets a range around it')
  assert.deepEqual(yRange([], undefined, undefined), [0, 1])
  assert.deepEqual(yRange([0.2, 0.9], 0), [0, 1])
})

test('a chart model: one line per series, gaps for missing values, a tooltip per sample, a text alternative', () => {
  const model = chartModel({
    series: ['a', 'b'],
    samples: [{ time: 0, values: [1, undefined] }, { time: 60_000, values: [3, 5] }, { time: 120_000, values: [2, 4] }],
    min: 0,
    max: 10,
    unit: 'ms'
  })
  assert.equal(model.lines.length, 2)
  assert.equal(model.lines[0]?.points.split(' ').length, 3)
  assert.equal(model.lines[1]?.points.split(' ').length, 2, 'a missing value is no point')
  assert.deepEqual(model.lines.map((l) => l.current), ['2 ms', '4 ms'])
  assert.equal(model.bands.length, 3)
  assert.equal(model.bands[0]?.text, '00:00:00 UTC · a 1 ms · b –')
  assert.equal(model.xLabels.start, '−2 min')
  assert.equal(model.label, 'Chart of a, b, over the last 2 min; now a 2 ms, b 4 ms')
  assert.ok(model.ticks.every((t) => t.y >= model.plot.y && t.y <= model.plot.y + model.plot.height))
  assert.equal(chartModel({ series: ['a'], samples: [] }).empty, true)
})

test('chart scales never hang: nearly equal, huge and overflowing values', { timeout: 10_000 }, () => {
  const cases: Array<[number[], string]> = [
    [[9_007_199_254_740_992], '2^53'],
    [[0.3, 0.30000000000000004], '0.1 + 0.2'],
    [[33.333333333333336, 33.33333333333333], 'float noise'],
    [[1e20, 100_000_000_000_000_016_384], 'neighbours at 1e20'],
    [[1e308, -1e308], 'a range that overflows'],
    [[5, 5], 'flat'],
    [[-0.000001, 0.000001], 'tiny']
  ]
  for (const [values, what] of cases) {
    const [lo, hi] = yRange(values)
    assert.ok(Number.isFinite(lo) && Number.isFinite(hi) && lo < hi, `${what}: a finite range`)
    assert.ok(niceTicks(lo, hi).length <= 21, `${what}: a handful of ticks`)
    const model = chartModel({ series: ['v'], samples: values.map((v, i) => ({ time: i * 1000, values: [v] })) })
    assert.ok(model.ticks.length <= 21 && !model.lines[0]?.points.includes('NaN'), what)
  }
  assert.deepEqual(niceTicks(1, 1), [1])
  assert.deepEqual(niceTicks(2, 1), [])
})
