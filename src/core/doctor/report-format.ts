/**
 * Doctor's report for people (grouped by configuration, one line per finding, evidence and fix
 * under what needs attention, a one-line summary) and for scripts (JSON). Pure.
 */
import pc from 'picocolors';
import type { DoctorReport, DoctorSummary, Finding, FindingStatus } from './finding.ts';

type Paint = (s: string) => string;
interface Palette {
  ok: Paint;
  warn: Paint;
  fail: Paint;
  skip: Paint;
  bold: Paint;
  dim: Paint;
}
const plain: Palette = { ok: (s) => s, warn: (s) => s, fail: (s) => s, skip: (s) => s, bold: (s) => s, dim: (s) => s };
// Colour follows the CLI's own terminal test (io.isTTY), not picocolors' guess from the environment.
const c = pc.createColors(true);
const colored: Palette = { ok: c.green, warn: c.yellow, fail: c.red, skip: c.dim, bold: c.bold, dim: c.dim };

const MARK: Record<FindingStatus, string> = { ok: 'ok  ', warn: 'WARN', fail: 'FAIL', skip: 'SKIP' };

export function formatSummary(s: DoctorSummary, targets: number, p: Palette = plain): string {
  const parts = [
    p.ok(`${s.ok} ok`),
    (s.warn ? p.warn : (x: string) => x)(`${s.warn} warning${s.warn === 1 ? '' : 's'}`),
    (s.fail ? p.fail : (x: string) => x)(`${s.fail} failed`),
    p.skip(`${s.skip} not checked`),
  ];
  const verdict = s.fail ? p.fail('FAIL') : s.warn ? p.warn('WARN') : p.ok('PASS');
  return `${verdict} ${targets} configuration${targets === 1 ? '' : 's'} checked: ${parts.join(', ')}`;
}

export function formatDoctorHuman(report: DoctorReport, opts: { color: boolean; verbose?: boolean }): string {
  const p = opts.color ? colored : plain;
  const out: string[] = [];
  for (const t of report.targets) {
    const meta = [t.family !== 'generic' ? t.family : '', t.registeredName ? `registered as ${t.registeredName}` : ''].filter(Boolean).join(', ');
    out.push(p.bold(t.name) + (meta ? p.dim(` (${meta})`) : ''));
    for (const f of t.findings) out.push(...formatFinding(f, p, opts.verbose ?? false));
    out.push('');
  }
  out.push(`${formatSummary(report.summary, report.targets.length, p)}${report.where !== 'this host' ? ` (${report.where})` : ''}`);
  return out.join('\n') + '\n';
}

function formatFinding(f: Finding, p: Palette, verbose: boolean): string[] {
  const paint = p[f.status];
  const ms = f.ms !== undefined ? p.dim(` (${f.ms} ms)`) : '';
  const lines = [`  ${paint(MARK[f.status])} ${p.dim(f.stage.padEnd(8))}${f.title}${ms}`];
  if (f.status !== 'ok' || verbose) for (const e of f.evidence) if (e) lines.push(`       ${' '.repeat(8)}${p.dim(e)}`);
  if (f.fix) lines.push(`       ${' '.repeat(8)}${paint('fix:')} ${f.fix}`);
  return lines;
}

export function formatDoctorJson(report: DoctorReport): string {
  return JSON.stringify(report, null, 2) + '\n';
}
