import crypto from 'node:crypto';
import type { Command } from 'commander';
import { VigilError } from '../lib/errors.ts';
import { formatListen } from '../lib/listen-address.ts';
import { formatRfc3339 } from '../lib/duration.ts';
import { describeTarget, type Channel } from '../notify/channels/index.ts';
import { resolveChannels } from '../notify/config.ts';
import { NotifyStore, type OutboxMessage, type OutboxStatus } from '../store/notify-store.ts';
import { sampleMessage } from '../notify/sample.ts';
import { DeliveryError } from '../notify/channels/shared/delivery-error.ts';
import { humanDuration } from '../lib/human-time.ts';
import { boxTable } from './format/table.ts';
import { csvRow } from './format/csv.ts';
import { outputOption, type CommandContext, type OutputFormat } from './context.ts';

function filterText(ch: Channel): string {
  const parts: string[] = [];
  if (ch.filter.criticality.length > 0) parts.push(`criticality ${ch.filter.criticality.join(',')}`);
  if (ch.filter.kinds.length > 0) parts.push(`kinds ${ch.filter.kinds.join(',')}`);
  if (ch.filter.bouncers.length > 0) parts.push(`bouncers ${ch.filter.bouncers.join(',')}`);
  return parts.length > 0 ? parts.join('; ') : 'all issues';
}

/** The channels vigil.yaml configures, their secrets resolved from the environment. */
function configuredChannels(ctx: CommandContext) {
  return resolveChannels(ctx.config().notifications, ctx.io.env);
}

/** `vigil notify …`: check the channels configured in vigil.yaml and what is queued for them. */
export function registerNotifyCommands(program: Command, ctx: CommandContext): void {
  const notify = program.command('notify').description('notification channels (notifications: in vigil.yaml) and their queue');

  registerNotifyTest(notify, ctx);
  registerNotifyChannels(notify, ctx);
  registerNotifyQueue(notify, ctx);
  registerNotifyRetry(notify, ctx);
}

function registerNotifyTest(notify: Command, ctx: CommandContext): void {
  notify
    .command('test <channel>')
    .description("send a sample notification to a channel now and print the receiver's answer")
    .action(async (name: string) => {
      const all = configuredChannels(ctx);
      const ch = all.find((c) => c.name === name);
      if (!ch) {
        const known = all.length > 0 ? `configured: ${all.map((c) => c.name).join(', ')}` : 'none is configured (add notifications.channels to vigil.yaml)';
        throw new VigilError('E_USAGE', `channel "${name}" is not configured; ${known}`);
      }
      const config = ctx.config();
      const deliveryId = crypto.randomUUID();
      const content = sampleMessage(ctx.io.clock.now(), `http://${formatListen(config.listen)}/`);
      try {
        // Loaded on demand: nodemailer and the HTTP senders would slow every other command's start.
        const { senderFor } = await import('../notify/channels/senders.ts');
        const answer = await senderFor(ch, config.notifications.timeoutMs).send({ deliveryId, channel: ch.name, content });
        ctx.io.stdout(`Delivered to ${ch.name} (${ch.type}, ${describeTarget(ch)}), delivery ${deliveryId}.\nReceiver answered: ${answer}\n`);
      } catch (e) {
        const why = e instanceof DeliveryError ? e.message : ((e as Error)?.message ?? String(e));
        throw new VigilError('E_NOTIFY', `${ch.name} (${ch.type}, ${describeTarget(ch)}): not delivered: ${why}`);
      }
    });
}

function registerNotifyChannels(notify: Command, ctx: CommandContext): void {
  notify
    .command('channels')
    .description('list the configured channels (targets masked), checking their configuration')
    .addOption(outputOption())
    .action(async (o: { output: OutputFormat }) => {
      const list = configuredChannels(ctx);
      const rows = list.map((ch) => [ch.name, ch.type, describeTarget(ch), filterText(ch), ch.remindEveryMs > 0 ? humanDuration(ch.remindEveryMs) : 'off']);
      if (o.output === 'json') {
        const json = list.map((ch) => ({ name: ch.name, type: ch.type, target: describeTarget(ch), filter: ch.filter, remindEveryMs: ch.remindEveryMs }));
        ctx.io.stdout(JSON.stringify(json, null, 2) + '\n');
      } else if (o.output === 'raw') {
        ctx.io.stdout([csvRow(['name', 'type', 'target', 'filter', 'remind_every']), ...rows.map(csvRow)].join(''));
      } else {
        ctx.io.stdout(
          rows.length === 0
            ? 'No notification channel configured (see docs/notifications.md).\n'
            : boxTable(['Name', 'Type', 'Target', 'Sends', 'Reminders'], rows),
        );
      }
    });
}

function registerNotifyQueue(notify: Command, ctx: CommandContext): void {
  notify
    .command('queue')
    .description('messages waiting to be delivered or given up (with --all, delivered ones too, kept 30 days)')
    .option('-a, --all', 'include delivered messages')
    .option('--channel <name>', 'only this channel')
    .addOption(outputOption())
    .action(async (o: { all?: boolean; channel?: string; output: OutputFormat }) => {
      const list = await ctx.withStore(async (store) => {
        const ns = new NotifyStore(store);
        const statuses: OutboxStatus[] = o.all ? ['pending', 'failed', 'sent'] : ['pending', 'failed'];
        const rows = (await Promise.all(statuses.map((status) => ns.outbox({ status, channel: o.channel })))).flat();
        return rows.sort((a, b) => a.id - b.id);
      });
      if (o.output === 'json') {
        const json = list.map(({ content, ...m }) => ({ ...m, issues: content.issues.map((i) => i.id) }));
        ctx.io.stdout(JSON.stringify(json, null, 2) + '\n');
        return;
      }
      const rows = list.map((m) => [
        String(m.id),
        m.channel,
        m.event,
        m.content.issues.map((i) => i.id).join(','),
        m.status,
        String(m.attempts),
        m.status === 'pending' ? formatRfc3339(m.nextAttemptAt) : m.sentAt !== null ? formatRfc3339(m.sentAt) : '',
        (m.status === 'sent' ? m.answer : m.lastError) ?? '',
        m.deliveryId,
      ]);
      if (o.output === 'raw') {
        ctx.io.stdout(
          [csvRow(['id', 'channel', 'event', 'issues', 'status', 'attempts', 'next_or_sent_at', 'last_answer', 'delivery_id']), ...rows.map(csvRow)].join(''),
        );
        return;
      }
      ctx.io.stdout(
        rows.length === 0
          ? 'Nothing queued: every notification was delivered.\n'
          : boxTable(['ID', 'Channel', 'Event', 'Issues', 'Status', 'Attempts', 'Next try / sent', 'Last answer', 'Delivery'], rows),
      );
      ctx.io.stdout(failedHint(list));
    });
}

function registerNotifyRetry(notify: Command, ctx: CommandContext): void {
  notify
    .command('retry')
    .description('send failed notifications again (same delivery ids, in the order queued, before anything queued after them)')
    .option('--channel <name>', 'only this channel')
    .option('--id <n>', 'only this message (the ID column of vigil notify queue)')
    .addOption(outputOption())
    .action(async (o: { channel?: string; id?: string; output: OutputFormat }) => {
      const id = o.id === undefined ? undefined : Number(o.id);
      if (id !== undefined && !(Number.isInteger(id) && id > 0))
        throw new VigilError('E_USAGE', `--id "${o.id}": use a message ID from vigil notify queue, e.g. 12`);
      const now = ctx.io.clock.now();
      const requeued = await ctx.withStore((store) => new NotifyStore(store).requeueFailed({ channel: o.channel, id, now }));
      if (o.output === 'json') {
        ctx.io.stdout(
          JSON.stringify(
            requeued.map((m) => ({ id: m.id, channel: m.channel, deliveryId: m.deliveryId })),
            null,
            2,
          ) + '\n',
        );
        return;
      }
      if (o.output === 'raw') {
        ctx.io.stdout([csvRow(['id', 'channel', 'delivery_id']), ...requeued.map((m) => csvRow([String(m.id), m.channel, m.deliveryId]))].join(''));
        return;
      }
      const which = [o.channel ? `channel ${o.channel}` : '', id !== undefined ? `id ${id}` : ''].filter(Boolean).join(', ');
      ctx.io.stdout(
        requeued.length === 0
          ? `No failed notification${which ? ` (${which})` : ''}: nothing to send again (see vigil notify queue).\n`
          : `Queued again ${requeued.length} notification(s) (${[...new Set(requeued.map((m) => m.channel))].join(', ')}): vigil serve sends them within seconds, in order, with their delivery ids; retried until ${formatRfc3339(now + ctx.config().notifications.giveUpAfterMs)} if refused. Follow with: vigil notify queue\n`,
      );
    });
}

/** What to do about failed messages, under the queue's table: the fix first, then the command. */
function failedHint(list: OutboxMessage[]): string {
  const failed = list.filter((m) => m.status === 'failed');
  if (failed.length === 0) return '';
  const channels = [...new Set(failed.map((m) => m.channel))];
  return `\n${failed.length} notification(s) failed (given up after notifications.give_up_after) on ${channels.join(', ')}. Fix the receiver (check it with: vigil notify test ${channels[0]}), then send them again, in order, with the same delivery ids: ${channels.map((c) => `vigil notify retry --channel ${c}`).join('; ')}\n`;
}
