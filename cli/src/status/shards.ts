/**
 * The shards of one run in `upshift status` (pure): counts by kind and status, then the failed shards
 * and the longest running ones by name — a few lines for a run of 10,000 shards. `--shards all` lists
 * every shard step instead (the steps table).
 */
import type { ShardSummaryView } from '@upshift/runtime';
import { durationText, table } from './format.ts';

/** What each per-shard step kind counts, as a person reads it. */
const kindLabels: Readonly<Record<string, string>> = { shard: 'shards', fanin: 'recorded final by verify', restored: 'restores recorded' };

/** The shard summary section of `upshift status <run>` (empty when the run has no shard steps). */
export function shardSummarySection(summary: ShardSummaryView, now: number): string {
  if (summary.counts.length === 0) return '';
  const byKind = new Map<string, Array<{ status: string; count: number }>>();
  for (const { kind, status, count } of summary.counts) byKind.set(kind, [...(byKind.get(kind) ?? []), { status, count }]);
  const lines = [...byKind].map(([kind, counts]) => {
    const total = counts.reduce((sum, c) => sum + c.count, 0);
    return `  ${kindLabels[kind] ?? kind}: ${total} (${counts.map((c) => `${c.status} ${c.count}`).join(', ')})`;
  });
  let text = `\nshards (summary; --shards all lists every one)\n${lines.join('\n')}\n`;
  if (summary.failed.length > 0) {
    const rows = summary.failed.map((s) => [s.key, String(s.attempt), failureOf(s.checkpoint)]);
    text += `  failed (first ${summary.failed.length}):\n${indent(table(['SHARD', 'ATTEMPTS', 'FAILURE'], rows))}`;
  }
  if (summary.slowest.length > 0) {
    const rows = summary.slowest.map((s) => [s.key, String(s.attempt), durationText(s.startedAt, s.finishedAt, now)]);
    text += `  running longest (first ${summary.slowest.length}):\n${indent(table(['SHARD', 'ATTEMPTS', 'DURATION'], rows))}`;
  }
  return text;
}

function indent(text: string): string {
  return text.split('\n').map((l) => (l ? `    ${l}` : l)).join('\n');
}

/** A failed shard's reason from its stored failure (`{ error }`), cut to one line. */
function failureOf(failure: unknown): string {
  const error = (failure as { error?: unknown } | null)?.error;
  return typeof error === 'string' ? error.replace(/\s+/g, ' ').slice(0, 160) : '-';
}
