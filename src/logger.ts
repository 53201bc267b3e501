/**
 * Logger options (pino through Fastify): JSON lines, or human-readable ones on a terminal; no
 * secret ever reaches a line.
 */
import type { FastifyRequest, FastifyServerOptions } from 'fastify'
import type { Config } from './config/schema.ts'

/** The URL with the value of every query parameter whose name contains "token" redacted. */
export const redactUrl = (url: string): string => url.replace(/([?&][^=&#]*token[^=&#]*=)[^&#]*/gi, '$1[redacted]')

export function loggerOptions (config: Readonly<Config>, options: { prettyLogs?: boolean, logStream?: { write (line: string): void } }): FastifyServerOptions['logger'] {
  return {
    level: config.log.level,
    ...(options.prettyLogs === true ? { transport: { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' } } } : {}),
    ...(options.logStream === undefined ? {} : { stream: options.logStream }),
    serializers: {
      req: (req: FastifyRequest) => ({ method: req.method, url: redactUrl(req.url), remoteAddress: req.ip })
    }
  }
}
