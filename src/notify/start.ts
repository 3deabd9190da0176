import { detectServiceManager } from '../lib/service-manager.ts';
import type { Logger } from 'pino';
import type { Clock } from '../lib/clock.ts';
import type { NotificationsConfig } from './config.ts';
import type { ListenAddress } from '../lib/listen-address.ts';
import { formatListen } from '../lib/listen-address.ts';
import type { HealthEngine } from '../health/engine.ts';
import type { Store } from '../store/store.ts';
import type { RunbookSettings } from '../core/health/runbook-settings.ts';
import { resolveChannels, resolveHeartbeat } from './config.ts';
import { Heartbeat } from './heartbeat.ts';
import { Dispatcher } from './dispatcher.ts';
import { NotifyStore } from '../store/notify-store.ts';
import { Planner } from './planner.ts';
import { describeTarget, type Channel } from './channels/index.ts';
import { senderFor } from './channels/senders.ts';

/** How often the outbox is looked at (retries coming due, other replicas' messages, expired leases). */
export const POLL_EVERY_MS = 1000;

export interface Notifications {
  /** The channels in use now (a reload may change them). */
  readonly channels: Channel[];
  store: NotifyStore;
  readonly planner: Planner;
  readonly dispatcher: Dispatcher;
  /** Plans from what the store says now, then sends everything due (tests, and after a manual change). */
  flush(): Promise<void>;
  /**
   * A reload's first half: resolves the new channels (secrets, values) and throws, naming the key,
   * without changing anything when one is bad. The function it returns switches to them: attempts in
   * flight finish, what is queued for a channel stays queued, open issues are planned for new channels.
   */
  prepare(settings: NotificationsConfig): () => Promise<void>;
  /** The heartbeat to the operator's dead-man's switch (`notifications.heartbeat`), if set. */
  readonly heartbeat: Heartbeat | undefined;
  /** Stops polling and waits for attempts in flight. */
  stop(): Promise<void>;
}

/** What startNotifications needs: the store, the configuration and, to plan after each evaluation, the engine. */
export interface NotificationsOptions {
  store: Store;
  clock: Clock;
  log: Logger;
  /** The configuration's notifications and where the Local API listens (for runbooks' URL). */
  config: { notifications: NotificationsConfig; listen: ListenAddress };
  engine?: HealthEngine;
  /** The Local API URL the runbooks name; defaults to the configured listen address. */
  lapiUrl?: () => string;
  /** The dashboard's own listener (`http://HOST:PORT`) for links in messages; null or absent: the Local API's. */
  dashboardUrl?: () => string | null;
  /** How runbooks address the Local API (`vigil watch`: CrowdSec's cscli); default Vigil's own. */
  runbook?: RunbookSettings;
  env?: NodeJS.ProcessEnv;
  pollEveryMs?: number;
  /** Jitter source (tests pass a fixed one). */
  random?: () => number;
}

/** The channels, planner, dispatcher and heartbeat of one configuration (a reload builds another set). */
function buildDelivery(
  settings: NotificationsConfig,
  deps: Pick<NotificationsOptions, 'clock' | 'log' | 'random' | 'dashboardUrl'> & {
    env: NodeJS.ProcessEnv;
    notifyStore: NotifyStore;
    lapiUrl: () => string;
    runbook: RunbookSettings;
  },
) {
  const { clock, log, env, notifyStore } = deps;
  const channels = resolveChannels(settings, env);
  const beat = resolveHeartbeat(settings, env);
  const heartbeat = beat ? new Heartbeat(beat, clock, log) : undefined;
  const planner = new Planner({
    store: notifyStore,
    channels,
    clock,
    lapiUrl: deps.lapiUrl,
    dashboardUrl: deps.dashboardUrl,
    runbook: deps.runbook,
    maintenance: settings.maintenance,
  });
  const dispatcher = new Dispatcher({
    store: notifyStore,
    channels: channels.map((ch) => ({ name: ch.name, sender: senderFor(ch, settings.timeoutMs), target: describeTarget(ch) })),
    clock,
    log,
    settings,
    random: deps.random,
  });
  return { channels, planner, dispatcher, heartbeat };
}

/**
 * Notifications for a process that evaluates health (`vigil serve`, `vigil watch`): resolves the
 * channels (a bad one is refused here, with its key and the reason), queues what the store says is
 * unannounced (an issue opened just before a crash), then plans after every evaluation of `engine`
 * and sends in the background. Planning never blocks the evaluation: it runs after it, detached.
 */
export async function startNotifications(opts: NotificationsOptions): Promise<Notifications> {
  const { store, log, config } = opts;
  const notifyStore = new NotifyStore(store);
  const lapiUrl = opts.lapiUrl ?? (() => `http://${formatListen(config.listen)}/`);
  const env = opts.env ?? process.env;
  // Vigil's own Local API: `vigil …` commands, and systemctl only where systemd runs.
  const runbook = opts.runbook ?? { cli: 'vigil', serviceManager: detectServiceManager() };
  // Planner and dispatcher for one set of channels; a reload builds a new pair and swaps it in.
  const build = (settings: NotificationsConfig) => buildDelivery(settings, { ...opts, env, notifyStore, lapiUrl, runbook });
  let current = build(config.notifications);
  const pollEveryMs = opts.pollEveryMs ?? POLL_EVERY_MS;

  const announce = (channels: Channel[]) => announceChannels(log, notifyStore, channels);
  await announce(current.channels);

  let stopped = false;
  const planAndSend = async () => {
    if (stopped) return;
    const { planner, dispatcher } = current;
    if ((await planner.run()) > 0) dispatcher.kick();
  };
  // A subscription, not a wrapped callback: the log and the dashboard listen to the same engine.
  const unsubscribe = opts.engine?.evaluated.subscribe((result) => {
    current.heartbeat?.evaluated(result.open);
    planAndSend().catch((e) => log.error({ err: e }, 'planning notifications failed; the next evaluation retries'));
  });
  // Before the first evaluation: what a crash left unannounced is queued and sent first.
  await current.planner.run();
  if (current.channels.length > 0) current.dispatcher.start(pollEveryMs);

  return {
    get channels() {
      return current.channels;
    },
    store: notifyStore,
    get planner() {
      return current.planner;
    },
    get dispatcher() {
      return current.dispatcher;
    },
    get heartbeat() {
      return current.heartbeat;
    },
    async flush() {
      await current.planner.run();
      await current.dispatcher.runDue();
    },
    prepare(settings) {
      const next = build(settings);
      return async () => {
        const before = current;
        await before.dispatcher.stop();
        await before.planner.idle();
        await before.heartbeat?.idle();
        current = next;
        if (stopped) return;
        await announce(next.channels);
        if (next.channels.length > 0) next.dispatcher.start(pollEveryMs);
        await planAndSend();
      };
    },
    async stop() {
      stopped = true;
      unsubscribe?.();
      await current.dispatcher.stop();
      await current.planner.idle();
      await current.heartbeat?.idle();
    },
  };
}

/** One line per channel, and a warning for messages queued for a channel no longer configured. */
async function announceChannels(log: Logger, notifyStore: NotifyStore, channels: Channel[]): Promise<void> {
  for (const ch of channels)
    log.info({ channel: ch.name, type: ch.type, target: describeTarget(ch) }, `notifications to ${ch.name}: ${ch.type} ${describeTarget(ch)}`);
  const configured = new Set(channels.map((c) => c.name));
  for (const [name, n] of await notifyStore.pendingByChannel()) {
    if (!configured.has(name))
      log.warn(
        { channel: name, pending: n },
        `${n} notification(s) queued for channel ${name}, which is no longer configured: kept, and sent if it comes back`,
      );
  }
}
