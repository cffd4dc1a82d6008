import { escapeControl, redact } from '../util/secrets.js';

export interface Cell {
  text: string;
  tone?: 'good' | 'warn' | 'bad' | 'dim';
}

/**
 * A cli-table3 box on a terminal, plain aligned columns when piped (easy to grep and diff). Both are loaded
 * lazily; colour only when asked and allowed (NO_COLOR, --no-color, not a TTY).
 */
export async function renderTable(header: string[], raw: Cell[][], o: { tty: boolean; color: boolean }): Promise<string> {
  const rows = raw.map((r) => r.map((c) => ({ ...c, text: escapeControl(c.text) })));
  let paint = (c: Cell) => c.text;
  if (o.color) {
    const { Chalk } = await import('chalk');
    const chalk = new Chalk({ level: 1 });
    const tones = { good: chalk.green, warn: chalk.yellow, bad: chalk.red, dim: chalk.gray };
    paint = (c) => (c.tone ? tones[c.tone](c.text) : c.text);
  }
  if (o.tty) {
    const { default: Table } = await import('cli-table3');
    const t = new Table({ head: header, style: { head: o.color ? ['bold'] : [], border: o.color ? ['gray'] : [] } });
    for (const r of rows) t.push(r.map(paint));
    return redact(t.toString()) + '\n';
  }
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]?.text.length ?? 0)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return redact([line(header), ...rows.map((r) => line(r.map((c) => c.text)))].join('\n')) + '\n';
}
