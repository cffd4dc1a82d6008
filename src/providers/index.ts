import type { Provider } from '../model/types.js';
import { anthropic } from './anthropic.js';
import { codex } from './codex.js';
import { grok } from './grok.js';
import type { ProviderAdapter } from './types.js';

export const adapters = { anthropic, codex, grok } satisfies Record<Provider, ProviderAdapter>;
