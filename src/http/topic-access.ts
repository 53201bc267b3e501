/**
 * Which topics a request may read. One place decides, so a private topic is never streamed,
 * listed or replayed without the subscriber token, whatever the route.
 */
import type { FastifyRequest } from 'fastify'
import { isValidTopicName, type Bus } from '../bus/index.ts'
import type { Config } from '../config/schema.ts'
import { TopicPrivateError, TopicUnknownError } from '../errors.ts'
import { canReadPrivate } from './auth.ts'

export class TopicAccess {
  readonly #config: Readonly<Config>
  readonly #bus: Bus

  constructor (config: Readonly<Config>, bus: Bus) {
    this.#config = config
    this.#bus = bus
  }

  isPrivate (topic: string): boolean {
    return this.#config.topics[topic]?.private === true
  }

  /**
   * Throws 404 for a topic that does not exist (and could not be created), 401 for a private
   * topic without the subscriber token.
   */
  assertReadable (request: FastifyRequest, topic: string): void {
    const exists = this.#bus.hasTopic(topic) ||
      (this.#config.bus.allowUndeclaredTopics && isValidTopicName(topic))
    if (!exists) throw new TopicUnknownError(topic)
    if (!this.canRead(request, topic)) throw new TopicPrivateError(topic)
  }

  /** Whether the request may read `topic` (which need not exist). */
  canRead (request: FastifyRequest, topic: string): boolean {
    return !this.isPrivate(topic) || canReadPrivate(request, this.#config.auth.subscribeToken)
  }

  /** Every existing topic the request may read, in declaration order then creation order. */
  async readableTopics (request: FastifyRequest): Promise<string[]> {
    const withToken = canReadPrivate(request, this.#config.auth.subscribeToken)
    const all = await this.#bus.topics()
    return all.map((t) => t.name).filter((name) => withToken || !this.isPrivate(name))
  }
}
