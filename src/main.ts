/**
 * The process: the only place that reads argv and env, listens, and handles signals.
 */
import { buildApp } from './app.ts'
import { ConfigError, loadConfig } from './config/load.ts'

async function main (): Promise<void> {
  let config
  try {
    config = loadConfig({ argv: process.argv.slice(2), env: process.env })
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err
    process.stderr.write(`ticker: ${err.message}\n`)
    process.exitCode = 2
    return
  }

  const prettyLogs = config.log.format === 'pretty' || (config.log.format === 'auto' && process.stdout.isTTY)
  const app = await buildApp(config, { prettyLogs })
  let stopping = false
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return
    stopping = true
    app.log.info({ signal }, 'shutting down')
    const deadline = setTimeout(() => {
      app.log.error({ timeoutMs: config.server.shutdownTimeoutMs }, 'shutdown took too long; exiting anyway')
      process.exit(1)
    }, config.server.shutdownTimeoutMs).unref()
    app.close().then(() => {
      clearTimeout(deadline)
      process.exit(0)
    }, (err: unknown) => {
      app.log.error({ err }, 'shutdown failed')
      process.exit(1)
    })
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)

  const address = await app.listen({ host: config.server.host, port: config.server.port, backlog: config.server.listenBacklog })
  app.log.info({
    address,
    backend: config.bus.backend,
    topics: Object.keys(config.topics),
    producers: app.ticker.scheduler.state().map((p) => `${p.name} (${p.schedule})`),
    metrics: config.metrics.enabled ? (app.ticker.metricsAddress ?? address) + '/metrics' : 'off'
  }, `Ticker listening on ${address}`)
}

main().catch((err: unknown) => {
  process.stderr.write(`ticker: failed to start: ${err instanceof Error ? err.message : String(err)}\n`)
  process.exit(1)
})
