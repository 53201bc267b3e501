/**
 * Which topics a request may read. One place decides, so a private topic is never streamed,
 * listed or replayed without a grant for it (the subscriber token, or a signed token that names
 * it), whatever the route. Routes that read topics resolve the request's grant first (`resolve`,
 * an onRequest hook).
 */
import type { FastifyRequest } from 'fastify'
import { familyPatternOf, isValidTopicName, type Bus } from '../bus/index.ts'
import type { Config } from '../config/schema.ts'
import { TopicNotGrantedError, TopicPrivateError, TopicUnknownError } from '../errors.ts'
import type { Grant, Grants } from './grants.ts'

export class TopicAccess {
  readonly #config: Readonly<Config>
  readonly #bus: Bus
  readonly #grants: Grants

  constructor (config: Readonly<Config>, bus: Bus, grants: Grants) {
    this.#config = config
    this.#bus = bus
    this.#grants = grants
  }

  /** An onRequest hook: works out what the request's token grants (a bad signed token is a 401). */
  readonly resolve = async (request: FastifyRequest): Promise<void> => {
    await this.#grants.resolve(request)
  }

  /** When streams opened by the request must end: its token's expiry plus the clock leeway. */
  endOf (request: FastifyRequest): number | undefined {
    const { expiresAt } = this.grantOf(request)
    return expiresAt === undefined ? undefined : expiresAt + this.#config.auth.jwt.clockToleranceSeconds * 1000
  }

  /** What the request may do (resolve() ran for it). */
  grantOf (request: FastifyRequest): Grant {
    return this.#grants.of(request)
  }

  isPrivate (topic: string): boolean {
    if (this.#config.topics[topic] !== undefined) return this.#config.topics[topic]?.private === true
    const family = familyPatternOf(this.#config, topic)
    return family !== undefined && this.#config.topicPatterns[family]?.private === true
  }

  /**
   * Throws 404 for a topic that does not exist (and could not be created), 401 for a private
   * topic without the subscriber token.
   */
  assertReadable (request: FastifyRequest, topic: string): void {
    // A topic a publish could create may be followed before it exists (a user's inbox before
    // its first message); reading it creates nothing.
    const exists = this.#bus.hasTopic(topic) || (isValidTopicName(topic) &&
      (this.#config.bus.allowUndeclaredTopics || familyPatternOf(this.#config, topic) !== undefined))
    if (!exists) throw new TopicUnknownError(topic)
    if (this.canRead(request, topic)) return
    throw this.grantOf(request).authenticated ? new TopicNotGrantedError(topic) : new TopicPrivateError(topic)
  }

  /** Whether the request may read `topic` (which need not exist). */
  canRead (request: FastifyRequest, topic: string): boolean {
    return !this.isPrivate(topic) || this.grantOf(request).subscribes(topic)
  }

  /** Every existing topic the request may read, in declaration order then creation order. */
  async readableTopics (request: FastifyRequest): Promise<string[]> {
    const all = await this.#bus.topics()
    return all.map((t) => t.name).filter((name) => this.canRead(request, name))
  }
}
