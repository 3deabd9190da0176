import { afterEach, expect } from 'vitest';
import type { Channel, ChannelFileSection } from '../../src/notify/channels/index.ts';
import { loadNotificationsConfig, resolveChannels } from '../../src/notify/config.ts';
import { DeliveryError } from '../../src/notify/channels/shared/delivery-error.ts';
import type { Sender } from '../../src/notify/channels/shared/sender.ts';
import { issue, message } from './notify-messages.ts';
import { startHttpReceiver, type Answer, type HttpReceiver } from './receivers.ts';

/**
 * What the channel senders' tests share: one channel resolved from its vigil.yaml section, and
 * loopback receivers that are closed after each test whatever it asserted.
 */

/** The channel `notifications.channels.NAME: section` resolves to, `${VAR}`s taken from `env`. */
export function resolveOneChannel<C extends Channel>(name: string, section: ChannelFileSection, env: Record<string, string> = {}): C {
  const config = loadNotificationsConfig({ channels: { [name]: section } }, null);
  return resolveChannels(config, env)[0] as C;
}

/** Call in a describe block: gives a function starting a receiver that is closed after the test that started it. */
export function useHttpReceivers(): (answers?: Answer[] | ((n: number) => Answer)) => Promise<HttpReceiver> {
  const started: HttpReceiver[] = [];
  afterEach(async () => {
    for (const rx of started.splice(0)) await rx.close();
  });
  return async (answers) => {
    const rx = await startHttpReceiver(answers);
    started.push(rx);
    return rx;
  };
}

/** Sends an opened issue that the receiver is expected to refuse; the DeliveryError the sender throws. */
export async function refusedDelivery(sender: Sender): Promise<DeliveryError> {
  const e = await sender.send(message('opened', [issue()])).then(
    (answer) => new Error(`delivered: ${answer}`),
    (e: unknown) => e,
  );
  expect(e).toBeInstanceOf(DeliveryError);
  return e as DeliveryError;
}
