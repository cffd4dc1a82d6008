/** Which codex model, at which reasoning effort, answers each Claude model family (serve.models). */
export type Effort = 'minimal' | 'low' | 'medium' | 'high' | 'xhigh';
export interface ModelChoice {
  model: string;
  effort: Effort;
}
export type ModelMap = Record<'opus' | 'sonnet' | 'haiku', ModelChoice>;

export const EFFORTS: readonly Effort[] = ['minimal', 'low', 'medium', 'high', 'xhigh'];

export const DEFAULT_MODEL_MAP: ModelMap = {
  opus: { model: 'gpt-5.5', effort: 'high' },
  sonnet: { model: 'gpt-5.5', effort: 'medium' },
  haiku: { model: 'gpt-5.4-mini', effort: 'low' },
};

