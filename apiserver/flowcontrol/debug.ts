// /debug/api_priority_and_fairness/dump_priority_levels: one row per priority level, in upstream's format
// (Go's tabwriter with minimum width 8 and padding 1 over ",\t"-separated cells).

import type { ServerResponse } from 'node:http';
import type { FlowControl } from './controller.js';

const HEADERS = ['PriorityLevelName', 'ActiveQueues', 'IsIdle', 'IsQuiescing', 'WaitingRequests', 'ExecutingRequests', 'DispatchedRequests', 'RejectedRequests', 'TimedoutRequests', 'CancelledRequests'];

/** Aligns cells as Go's tabwriter.NewWriter(w, 8, 0, 1, ' ', 0) does: every cell but a row's last is padded. */
export function tabulate(rows: string[][]): string {
  const widths: number[] = [];
  for (const row of rows) {
    row.slice(0, -1).forEach((cell, column) => {
      widths[column] = Math.max(widths[column] ?? 0, Math.max(8, cell.length + 1));
    });
  }
  return rows.map((row) => row.map((cell, column) => (column < row.length - 1 ? cell.padEnd(widths[column]) : cell)).join('') + '\n').join('');
}

export function dumpPriorityLevels(control: FlowControl): string {
  const rows = [HEADERS];
  for (const name of control.levelNames()) {
    const stats = control.levelStats(name)!;
    const idle = stats.waiting === 0 && stats.executing === 0;
    rows.push([name, String(stats.activeQueues), String(idle), String(stats.quiescing), String(stats.waiting), String(stats.executing), String(stats.dispatched), String(stats.rejected), String(stats.timedOut), String(stats.cancelled)]);
  }
  // Upstream separates cells with ",\t": the comma ends every cell but the last of a row.
  return tabulate(rows.map((row) => row.map((cell, column) => (column < row.length - 1 ? `${cell},` : cell))));
}

export function serveDumpPriorityLevels(res: ServerResponse, control: FlowControl): void {
  const body = dumpPriorityLevels(control);
  res.statusCode = 200;
  res.setHeader('Content-Type', 'text/plain; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.end(body);
}
