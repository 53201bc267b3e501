/**
 * Logger options (pino through Fastify): JSON lines, or human-readable ones on a terminal; no
 * secret ever reaches a line.
 */
import type { FastifyRequest, FastifyServerOptions } from 'fastify'
import type { Config } from './config/schema.ts'

/** A query parameter's name as the query parser reads it; undefined when it cannot be decoded. */
function decodedName (raw: string): string | undefined {
  try {
    return decodeURIComponent(raw.replaceAll('+', ' '))
  } catch {
    return undefined
  }
}

/**
 * The URL with the value of every query parameter whose name, decoded as the query parser
 * decodes it, contains "token" redacted (`access_token`, `access_%74oken`, `TOKEN`, ...); a name
 * that cannot be decoded is redacted too.
 */
export function redactUrl (url: string): string {
  const q = url.indexOf('?')
  if (q === -1) return url
  const params = url.slice(q + 1).split('&').map((param) => {
    const eq = param.indexOf('=')
    if (eq === -1) return param
    const name = decodedName(param.slice(0, eq))
    return name === undefined || /token/i.test(name) ? `${param.slice(0, eq)}=[redacted]` : param
  })
  return `${url.slice(0, q + 1)}${params.join('&')}`
}

/**
 * What Fastify's own "Server listening at" line is made to say (its `listenTextResolver`), so that
 * the logger drops it: the process logs one startup summary of its own instead.
 */
export const UNLOGGED_LISTEN_TEXT = 'ticker:unlogged-listen-text'

export function loggerOptions (config: Readonly<Config>, options: { prettyLogs?: boolean, logStream?: { write (line: string): void } }): FastifyServerOptions['logger'] {
  return {
    level: config.log.level,
    hooks: {
      logMethod (args, method) {
        if (args[0] === UNLOGGED_LISTEN_TEXT) return
        method.apply(this, args)
      }
    },
    ...(options.prettyLogs === true ? { transport: { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' } } } : {}),
    ...(options.logStream === undefined ? {} : { stream: options.logStream }),
    serializers: {
      req: (req: FastifyRequest) => ({ method: req.method, url: redactUrl(req.url), remoteAddress: req.ip })
    }
  }
}
