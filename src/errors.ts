/**
 * Every error Ticker answers with over HTTP, in one catalogue.
 *
 * Codes are `TICKER_ERR_*`, never reused; messages say what to do about it.
 */
import createError from '@fastify/error'

export const TopicUnknownError = createError<[string]>(
  'TICKER_ERR_TOPIC_UNKNOWN', 'Topic "%s" is not declared; declare it under `topics` in the config', 404)

export const TopicNameInvalidError = createError<[string]>(
  'TICKER_ERR_TOPIC_NAME', 'Topic name "%s" is invalid: use 1-64 of a-z 0-9 . _ - starting with a letter or digit, and not a reserved name', 400)

export const TopicLimitError = createError<[number]>(
  'TICKER_ERR_TOPIC_LIMIT', 'No more topics can be created: the limit of %s topics is reached', 409)

export const PublishDisabledError = createError(
  'TICKER_ERR_PUBLISH_DISABLED', 'Publishing over HTTP is disabled: set TICKER_PUBLISH_TOKEN (auth.publishToken) to enable it', 403)

export const UnauthorizedError = createError<[string]>(
  'TICKER_ERR_UNAUTHORIZED', '%s', 401)

export const TooManyConnectionsError = createError(
  'TICKER_ERR_TOO_MANY_CONNECTIONS', 'The server has reached its limit of open streams; retry later', 503)

export const TooManyConnectionsFromClientError = createError(
  'TICKER_ERR_TOO_MANY_CONNECTIONS_FROM_CLIENT', 'Too many open streams from your address; close some or retry later', 429)

export const ShuttingDownError = createError(
  'TICKER_ERR_SHUTTING_DOWN', 'The server is shutting down; retry shortly', 503)

export const BadRequestError = createError<[string]>(
  'TICKER_ERR_BAD_REQUEST', '%s', 400)

export const NotFoundError = createError<[string, string]>(
  'TICKER_ERR_NOT_FOUND', 'Route %s %s does not exist', 404)
