import type { Attention } from '../core/attention.js';
import type { Account } from '../model/types.js';
import { planOrder } from '../core/planner.js';
import type { PlanState } from '../store/plan-cache.js';
import type { AccountStore, LoadResult } from '../store/store.js';

/**
 * A tick over a pool where a few accounts are due (at 10,000 accounts, most minutes): the plan cache vouches for
 * every other file (unchanged since a full tick planned it, and not due), so only the few are read, planned and
 * worked on, and what the tick says of the others (skipped, needing a person, not due) is what that full tick
 * said of them. Everything here is the merge of the two, in the order a full tick gives.
 */
export interface PartialTick {
  state: PlanState;
  /** the cache's entries for the accounts it vouches for, with what the merges need */
  quietSkipped: RankedSkip[];
  quietAttention: (PlanState['attention'][number] & { provider: string })[];
}

export type RankedSkip = { account: string; reason: string; priority: number };

/** Sorts a skip list into plan order, as planTick gives it (the planner's byPriority: priority, then id). */
export const inPlanOrder = <T extends RankedSkip>(list: T[]): T[] => list.sort((a, b) => planOrder(a.priority, a.account, b.priority, b.account));

/** The state as a partial tick, or null when the cache was saved before it kept what a partial tick merges. */
export function partialTick(state: PlanState | null | undefined): PartialTick | null {
  if (!state || !state.loud.length) return null;
  const { skipped, skippedPriority: priority, attention, attentionProvider: provider } = state;
  if (!Array.isArray(priority) || priority.length !== skipped.length || !priority.every((x) => typeof x === 'number')) return null;
  if (!Array.isArray(provider) || provider.length !== attention.length || !provider.every((x) => typeof x === 'string' && x !== '')) return null;
  const loud = new Set(state.loud);
  return {
    state,
    quietSkipped: skipped.flatMap((s, i) => (loud.has(s.account) ? [] : [{ ...s, priority: priority[i] as number }])),
    quietAttention: attention.flatMap((a, i) => (loud.has(a.account) ? [] : [{ ...a, provider: provider[i] as string }])),
  };
}

/** The loud accounts, read as a full load reads every one (their warnings and the quiet files' in id order). */
export function loadLoud(store: AccountStore, p: PartialTick): LoadResult {
  const result: LoadResult = { accounts: [], problems: [], warnings: [...p.state.dirWarnings] };
  const quiet = p.state.quietWarnings;
  let q = 0;
  for (const id of p.state.loud) {
    while (q < quiet.length && quiet[q]!.id < id) result.warnings.push(quiet[q++]!.text);
    const r = store.read(id, result.warnings);
    if ('account' in r) {
      // the cache vouches only when nothing waits in recovery/
      r.account.recovery = null;
      result.accounts.push(r);
    } else result.problems.push(r);
  }
  while (q < quiet.length) result.warnings.push(quiet[q++]!.text);
  return result;
}

/** The skip list of every account in plan order (priority, then id), the read ones' from this run's plan. */
export function mergeSkipped(p: PartialTick, fresh: readonly { account: string; reason: string }[], accounts: readonly Account[]): { account: string; reason: string }[] {
  const priority = new Map(accounts.map((a) => [a.id, a.priority]));
  const all = inPlanOrder([...p.quietSkipped, ...fresh.map((s) => ({ ...s, priority: priority.get(s.account)! }))]);
  return all.map(({ account, reason }) => ({ account, reason }));
}

/** Who needs a person, every account in id order (as attentionList gives them over a full load). */
export function mergeAttention(p: PartialTick, fresh: readonly Attention[]): Attention[] {
  // as saved: the whole Attention (its kind too), less the provider kept beside it
  const all = [...p.quietAttention.map(({ provider: _, ...a }) => a as unknown as Attention), ...fresh];
  return all.sort((a, b) => (a.account < b.account ? -1 : a.account > b.account ? 1 : 0));
}

/** The providers of the quiet accounts that need a person, for the notifications. */
export const quietProviders = (p: PartialTick): Map<string, Account['provider']> => new Map(p.quietAttention.map((a) => [a.account, a.provider as Account['provider']]));
