/**
 * Which Codex model, at which reasoning effort, answers a Claude model name. codex-proxy's rule: by
 * substring (opus, sonnet, haiku); a name that already names a Codex model passes through.
 */
import { type Effort, type ModelChoice, type ModelMap } from '../config/models.js';
export { DEFAULT_MODEL_MAP, EFFORTS, type Effort, type ModelChoice, type ModelMap } from '../config/models.js';

/** A model name that is already the backend's own (gpt-5.5, gpt-5.3-codex, o3…). */
export const isCodexModel = (name: string) => /^(gpt-|o\d|codex-)/i.test(name);

export function mapModel(name: string, map: ModelMap): ModelChoice {
  if (isCodexModel(name)) return { model: name, effort: 'medium' };
  const n = name.toLowerCase();
  if (n.includes('opus')) return map.opus;
  if (n.includes('haiku')) return map.haiku;
  // sonnet, and any Claude name we do not know: the middle of the map
  return map.sonnet;
}

/** thinking.budget_tokens → effort, as CLIProxyAPI does it: ≤1024 low, ≤8192 medium, ≤24576 high, more xhigh. */
export function effortForBudget(budget: number): Effort {
  if (budget <= 1024) return 'low';
  if (budget <= 8192) return 'medium';
  if (budget <= 24_576) return 'high';
  return 'xhigh';
}
