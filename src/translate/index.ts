import { errorToMessages } from './messages-responses/errors.js';
import { messagesToResponses } from './messages-responses/request.js';
import { assembleMessage, ResponsesToMessages } from './messages-responses/stream.js';

/**
 * The translators between client and upstream APIs, one per direction, each a pure request mapper and a
 * stream transducer. `serve` picks a direction by route; it never looks inside the formats.
 */
export interface Direction {
  /** the upstream path, after the provider's api base */
  upstreamPath: string;
  request: typeof messagesToResponses;
  stream: (o: { model: string; names: Record<string, string> }) => ResponsesToMessages;
  assemble: typeof assembleMessage;
  error: typeof errorToMessages;
}

export const directions = {
  /** Anthropic Messages clients (Claude Code, the SDKs) on the Codex Responses backend */
  'messages->responses': {
    upstreamPath: '/codex/responses',
    request: messagesToResponses,
    stream: (o) => new ResponsesToMessages(o),
    assemble: assembleMessage,
    error: errorToMessages,
  },
} satisfies Record<string, Direction>;

export type DirectionName = keyof typeof directions;
export { sseFrame, SseParser } from './sse.js';
export { DEFAULT_MODEL_MAP, EFFORTS, isCodexModel, type ModelMap } from './models.js';
