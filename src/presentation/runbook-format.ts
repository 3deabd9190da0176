/** How a runbook reads in a terminal (optionally coloured) and in Markdown (notifications, the dashboard). */
import pc from 'picocolors';
import { code, type Runbook } from '../core/health/runbooks/index.ts';

/** For a terminal: title, summary, headed sections, numbered steps, commands indented under them. */
export function formatRunbookText(r: Runbook, opts: { color?: boolean } = {}): string {
  const c = pc.createColors(opts.color ?? false);
  // An empty field (a runbook that names no file or service) is left out, not printed blank.
  const lines: string[] = [c.bold(r.title), r.summary, ''];
  if (r.configPath) lines.push(`Config:  ${r.configPath}`);
  if (r.serviceName) lines.push(`Service: ${r.serviceName}`);
  for (const section of r.sections) {
    lines.push('', c.bold(c.underline(section.title)));
    section.steps.forEach((step, i) => {
      const n = `${i + 1}.`;
      lines.push(`  ${c.bold(n)} ${step.text}`);
      for (const command of step.commands) lines.push(`       ${c.cyan(command)}`);
    });
  }
  return lines.join('\n') + '\n';
}

/** For notifications and the dashboard: fenced commands that no command can close early. */
export function formatRunbookMarkdown(r: Runbook): string {
  const lines: string[] = [`## ${r.title}`, '', r.summary, ''];
  if (r.configPath) lines.push(`- **Config:** ${code(r.configPath)}`);
  if (r.serviceName) lines.push(`- **Service:** ${code(r.serviceName)}`);
  for (const section of r.sections) {
    lines.push('', `### ${section.title}`, '');
    section.steps.forEach((step, i) => {
      lines.push(`${i + 1}. ${step.text}`);
      if (step.commands.length > 0) {
        const body = step.commands.join('\n');
        const longest = Math.max(0, ...(body.match(/`+/g) ?? []).map((run) => run.length));
        const fence = '`'.repeat(Math.max(3, longest + 1));
        lines.push('', `   ${fence}bash`, ...step.commands.map((cmd) => `   ${cmd}`), `   ${fence}`, '');
      }
    });
  }
  return (
    lines
      .join('\n')
      .replace(/\n{3,}/g, '\n\n')
      .trimEnd() + '\n'
  );
}
