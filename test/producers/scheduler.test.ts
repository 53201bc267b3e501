import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { pino } from 'pino'
import { soloCoordinator } from '../../src/bus/lease.ts'
import { Scheduler, type Producer, type RunReport } from '../../src/producers/index.ts'
import { waitUntil } from '../helper.ts'

const EVERY_SECOND = '* * * * * *'
const log = pino({ level: 'silent' })

function startScheduler (t: TestContext, producers: Producer[], published: Array<[string, unknown]> = [], reports: RunReport[] = []): Scheduler {
  const scheduler = new Scheduler({
    producers,
    log,
    coordinator: soloCoordinator('test'),
    publish: async (topic, data) => { published.push([topic, data]); return String(published.length) }
  })
  scheduler.onRun((report) => reports.push(report))
  t.after(() => scheduler.stop())
  scheduler.start()
  return scheduler
}

/** A promise and the function that settles it. */
function gate (): { promise: Promise<void>, open: () => void } {
  let open = (): void => {}
  const promise = new Promise<void>((resolve) => { open = resolve })
  return { promise, open }
}

test('a run never overlaps the previous one; ticks that find it busy are skipped and counted', async (t) => {
  const first = gate()
  let concurrent = 0
  let maxConcurrent = 0
  let runs = 0
  const scheduler = startScheduler(t, [{
    name: 'slow',
    schedule: EVERY_SECOND,
    timeoutMs: 30_000,
    topics: [],
    async run () {
      runs++
      concurrent++
      maxConcurrent = Math.max(maxConcurrent, concurrent)
      if (runs === 1) await first.promise
      concurrent--
    }
  }])
  await waitUntil(() => scheduler.state()[0]?.skipped === 1, 5000, 'a skipped tick')
  assert.equal(runs, 1)
  assert.equal(scheduler.state()[0]?.running, true)
  first.open()
  await waitUntil(() => runs >= 2, 5000, 'the next scheduled run')
  assert.equal(maxConcurrent, 1)
})

test('a run that throws or rejects is isolated: logged, counted, and the next run happens', async (t) => {
  let runs = 0
  const reports: RunReport[] = []
  const scheduler = startScheduler(t, [{
    name: 'flaky',
    schedule: EVERY_SECOND,
    timeoutMs: 30_000,
    topics: ['x'],
    async run (ctx) {
      runs++
      if (runs === 1) throw new Error('first run breaks')
      await ctx.publish('x', runs)
    }
  }], [], reports)
  await waitUntil(() => reports.length >= 2, 5000, 'two runs')
  assert.deepEqual(reports.slice(0, 2).map((r) => [r.producer, r.outcome, r.error?.message]), [['flaky', 'error', 'first run breaks'], ['flaky', 'ok', undefined]])
  const [state] = scheduler.state()
  assert.equal(state?.failures, 1)
  assert.equal(state?.lastError, null, 'a success clears the last error')
  assert.ok(state?.lastSuccessAt !== null && state?.nextRunAt !== null)
})

test('a run that hangs is cut off by its timeout; what it publishes afterwards is dropped', async (t) => {
  const published: Array<[string, unknown]> = []
  const lateAttempt = gate()
  let lateError: Error | undefined
  const scheduler = startScheduler(t, [{
    name: 'hangs',
    schedule: '0 0 1 1 *',
    timeoutMs: 50,
    topics: ['x'],
    async run (ctx) {
      await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve))
      await ctx.publish('x', 'too late').catch((err: Error) => { lateError = err })
      lateAttempt.open()
    }
  }], published)
  await waitUntil(() => scheduler.state()[0]?.timeouts === 1, 5000, 'the timeout')
  assert.match(scheduler.state()[0]?.lastError ?? '', /took longer than 50 ms and was cut off/)
  await lateAttempt.promise
  assert.match(lateError?.message ?? '', /after the run of hangs was cut off/)
  assert.deepEqual(published, [])
  await scheduler.runNow('hangs') // and it can run again
  assert.equal(scheduler.state()[0]?.timeouts, 2)
})

test('stop() stops the schedule, aborts runs in flight and waits for them', async (t) => {
  const events: string[] = []
  const scheduler = startScheduler(t, [{
    name: 'busy',
    schedule: EVERY_SECOND,
    timeoutMs: 30_000,
    topics: [],
    async run (ctx) {
      events.push('run started')
      await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve))
      await new Promise((resolve) => setImmediate(resolve))
      events.push('run settled')
    },
    close () { events.push('producer closed') }
  }])
  await waitUntil(() => events.length === 1, 5000, 'the first run')
  await scheduler.stop()
  events.push('stop resolved')
  assert.deepEqual(events, ['run started', 'run settled', 'producer closed', 'stop resolved'])
  assert.equal(scheduler.started, false)
  assert.equal(scheduler.state()[0]?.nextRunAt, null)
  assert.equal(scheduler.state()[0]?.failures, 0, 'being stopped is not a failure')
})

test('producers do not share fate: one failing does not stop another', async (t) => {
  const published: Array<[string, unknown]> = []
  startScheduler(t, [
    { name: 'broken', schedule: EVERY_SECOND, timeoutMs: 1000, topics: [], async run () { throw new Error('always') } },
    { name: 'fine', schedule: EVERY_SECOND, timeoutMs: 1000, topics: ['ok'], async run (ctx) { await ctx.publish('ok', 1) } }
  ], published)
  await waitUntil(() => published.length >= 2, 5000, 'two runs of the healthy producer')
})
