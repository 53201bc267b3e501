import { test } from 'node:test'
import assert from 'node:assert/strict'
import os from 'node:os'
import { clockTick, createClockProducer, type ClockTick } from '../../src/producers/clock.ts'
import { cpuPercents, parseNetDev, type SystemSample } from '../../src/producers/system.ts'
import { Recorder, startApp } from '../helper.ts'

test('clock: a tick carries ISO time, epoch ms and each zone\'s local time', async (t) => {
  const { url } = await startApp(t, {
    producers: { clock: { enabled: true, schedule: '* * * * * *', timeZones: ['UTC', 'Asia/Kolkata', 'America/New_York'] } }
  })
  const client = new Recorder(t, `${url}/topics/clock/stream`, ['clock'])
  const [first, second] = (await client.count(2, 5000)).map((e) => JSON.parse(e.data) as ClockTick)
  assert.ok(first !== undefined && second !== undefined)
  assert.ok(second.epochMs > first.epochMs, 'the clock moves')
  assert.equal(new Date(second.epochMs).toISOString(), second.iso)
  assert.deepEqual(second.zones.map((z) => z.zone), ['UTC', 'Asia/Kolkata', 'America/New_York'])
  assert.equal(`${second.zones[0]?.date}T${second.zones[0]?.time}`, second.iso.slice(0, 19))
})

test('clock: zone arithmetic, offsets and date changes', () => {
  const producer = createClockProducer({ schedule: '* * * * * *', topic: 'clock', timeoutMs: 1000, timeZones: [] })
  assert.equal(producer.name, 'clock')
  // 2026-03-08 06:59:59Z is 01:59:59 EST; a second later New York springs forward to 03:00:00 EDT.
  const zones = ['America/New_York', 'Asia/Kolkata'].map((zone) => {
    const format = new Intl.DateTimeFormat('en-CA', { timeZone: zone, hourCycle: 'h23', hour: '2-digit', minute: '2-digit', second: '2-digit', year: 'numeric', month: '2-digit', day: '2-digit', timeZoneName: 'shortOffset' })
    return (ms: number) => {
      const p = Object.fromEntries(format.formatToParts(ms).map((x) => [x.type, x.value]))
      return { zone, date: `${p.year}-${p.month}-${p.day}`, time: `${p.hour}:${p.minute}:${p.second}`, offset: p.timeZoneName ?? '' }
    }
  })
  const before = clockTick(Date.UTC(2026, 2, 8, 6, 59, 59), zones)
  const after = clockTick(Date.UTC(2026, 2, 8, 7, 0, 0), zones)
  assert.deepEqual(before.zones.map((z) => [z.date, z.time, z.offset]), [['2026-03-08', '01:59:59', 'GMT-5'], ['2026-03-08', '12:29:59', 'GMT+5:30']])
  assert.deepEqual(after.zones[0], { zone: 'America/New_York', date: '2026-03-08', time: '03:00:00', offset: 'GMT-4' })
})

test('system: values are present, numeric, in range, with consistent units', async (t) => {
  const { url } = await startApp(t, { producers: { system: { enabled: true, schedule: '* * * * * *', mounts: ['/', '/no/such/mount'] } } })
  const client = new Recorder(t, `${url}/topics/system/stream`, ['system'])
  const samples = (await client.count(2, 5000)).map((e) => JSON.parse(e.data) as SystemSample)
  const s = samples[1] as SystemSample
  const percent = (n: number): boolean => typeof n === 'number' && n >= 0 && n <= 100
  assert.ok(percent(s.cpuPercent), `cpuPercent ${s.cpuPercent}`)
  assert.equal(s.cpuCoresPercent.length, os.cpus().length)
  assert.ok(s.cpuCoresPercent.every(percent))
  for (const load of [s.load1, s.load5, s.load15]) assert.ok(load >= 0)
  assert.equal(s.memTotalBytes, os.totalmem())
  assert.equal(s.memUsedBytes + s.memAvailableBytes, s.memTotalBytes)
  assert.ok(s.memAvailableBytes > 0 && s.memAvailableBytes < s.memTotalBytes)
  assert.ok(percent(s.memUsedPercent))
  assert.ok(s.uptimeSeconds > 0)
  assert.deepEqual(s.disks.map((d) => d.mount), ['/'], 'an unreadable mount is left out, not fatal')
  const disk = s.disks[0]
  assert.ok(disk !== undefined && disk.totalBytes > 0 && disk.usedBytes + disk.availableBytes <= disk.totalBytes && percent(disk.usedPercent))
  if (process.platform === 'linux') {
    assert.ok(Number.isInteger(s.netRxBytesPerSecond) && (s.netRxBytesPerSecond ?? -1) >= 0)
    assert.ok(Number.isInteger(s.netTxBytesPerSecond) && (s.netTxBytesPerSecond ?? -1) >= 0)
  }
  assert.ok(s.processRssBytes > s.processHeapUsedBytes && s.processHeapUsedBytes > 0)
  assert.ok(s.eventLoopUtilization >= 0 && s.eventLoopUtilization <= 1)
  assert.ok(s.eventLoopDelayMeanMs >= 0 && s.eventLoopDelayP99Ms >= 0)
})

test('system: CPU share from counter differences', () => {
  const before = [{ busy: 100, total: 1000 }, { busy: 0, total: 1000 }]
  const after = [{ busy: 600, total: 2000 }, { busy: 0, total: 2000 }]
  assert.deepEqual(cpuPercents(before, after), { total: 25, cores: [50, 0] })
  assert.deepEqual(cpuPercents(after, after), { total: 0, cores: [0, 0] })
})

test('system: /proc/net/dev parsing skips loopback', () => {
  const text = [
    'Inter-|   Receive                                                |  Transmit',
    ' face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed',
    '    lo: 9999999     100    0    0    0     0          0         0  9999999     100    0    0    0     0       0          0',
    '  eth0:  1000      10    0    0    0     0          0         0     2000      20    0    0    0     0       0          0',
    '  wlan0:  500       5    0    0    0     0          0         0      250       2    0    0    0     0       0          0'
  ].join('\n')
  assert.deepEqual(parseNetDev(text), { rxBytes: 1500, txBytes: 2250 })
})
