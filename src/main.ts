/**
 * The process: the only place that reads argv and env, listens, and handles signals.
 */
import { buildApp } from './app.ts'
import { ConfigError, loadConfig } from './config/load.ts'
import type { Config } from './config/schema.ts'
import { UNLOGGED_LISTEN_TEXT } from './logger.ts'

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
    const streams = app.ticker.hub.size
    app.log.info({ signal }, 'shutting down')
    const deadline = setTimeout(() => {
      app.log.error({ timeoutMs: config.server.shutdownTimeoutMs }, 'shutdown took too long; exiting anyway')
      process.exit(1)
    }, config.server.shutdownTimeoutMs).unref()
    app.close().then(() => {
      clearTimeout(deadline)
      app.log.info({ streams, producers: app.ticker.scheduler.state().length },
        `stopped: ended ${streams} open stream${streams === 1 ? '' : 's'}, stopped the producers, closed the ${config.bus.backend} bus`)
      process.exit(0)
    }, (err: unknown) => {
      app.log.error({ err }, 'shutdown failed')
      process.exit(1)
    })
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)

  const address = await app.listen({
    host: config.server.host,
    port: config.server.port,
    backlog: config.server.listenBacklog,
    listenTextResolver: () => UNLOGGED_LISTEN_TEXT
  })
  const summary = startupSummary(config, address, app.ticker.scheduler.state().map((p) => `${p.name} (${p.schedule})`), app.ticker.metricsAddress)
  app.log.info(summary, `Ticker listening on ${address}: ${summary.backend} bus, ${summary.topics.length} topics, ` +
    `${summary.producers.length} producers, publishing ${summary.publishing}, dashboard at ${address}/`)
}

/** What is in effect, in one line: what an operator checks first. */
function startupSummary (config: Readonly<Config>, address: string, producers: string[], metricsAddress: string | undefined) {
  return {
    address,
    backend: config.bus.backend,
    topics: Object.keys(config.topics),
    producers,
    publishing: config.auth.publishToken === '' ? 'off (set TICKER_PUBLISH_TOKEN to enable it)' : 'on',
    corsOrigins: config.cors.origins.length === 0 ? 'none' : config.cors.origins.join(', '),
    frameAncestors: config.embed.frameAncestors.length === 0 ? 'this origin only' : config.embed.frameAncestors.join(', '),
    metrics: config.metrics.enabled ? (metricsAddress ?? address) + '/metrics' : 'off'
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`ticker: failed to start: ${err instanceof Error ? err.message : String(err)}\n`)
  process.exit(1)
})
