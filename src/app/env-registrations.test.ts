import pino from 'pino';
import { beforeEach, expect, it } from 'vitest';
import { describeOnEachDialect } from '../../test/support/store-suites.ts';
import { hashApiKey } from '../core/bouncers/api-key.ts';
import { verifyMachinePassword } from '../lib/password.ts';
import { bouncersByKeyHash, createAutoBouncer, createBouncer, getBouncer } from '../store/bouncers.ts';
import { getMachine } from '../store/machines.ts';
import type { Store } from '../store/store.ts';
import { applyEnvRegistrations } from './env-registrations.ts';

const T0 = Date.UTC(2026, 0, 1);
const KEY = 'fw-key-0123456789';
const NEW_KEY = 'fw-key-rotated-9876543210';

describeOnEachDialect('registrations from the environment at start', (current) => {
  let store: Store;
  let lines: string[];
  const log = () => pino({ level: 'info' }, { write: (l: string) => void lines.push(l) });
  beforeEach(() => {
    store = current();
    lines = [];
  });
  const apply = (bouncers: { name: string; key: string }[], machine: { name: string; password: string } | null = null) =>
    applyEnvRegistrations(
      store,
      {
        bouncers: bouncers.map((b) => ({ ...b, from: `BOUNCER_KEY_${b.name}` })),
        machine: machine && { ...machine, from: 'AGENT_USERNAME + AGENT_PASSWORD' },
      },
      T0,
      log(),
    );

  it('adds an absent bouncer, leaves a matching one alone, and never logs a key', async () => {
    expect(await apply([{ name: 'fw', key: KEY }])).toEqual([{ name: 'fw', kind: 'bouncer', change: 'added' }]);
    expect((await getBouncer(store, 'fw'))?.apiKeyHash).toBe(hashApiKey(KEY));
    expect(await apply([{ name: 'fw', key: KEY }])).toEqual([{ name: 'fw', kind: 'bouncer', change: 'unchanged' }]);
    expect(lines.join('')).toContain("bouncer 'fw' registered from BOUNCER_KEY_fw");
    expect(lines.join('')).not.toContain(KEY);
  });

  it('gives a bouncer whose key changed the new key, and its NAME@IP rows too: the old key opens nothing', async () => {
    await createBouncer(store, { name: 'fw', apiKeyHash: hashApiKey(KEY), now: T0 });
    await createAutoBouncer(store, { name: 'fw@10.0.0.2', apiKeyHash: hashApiKey(KEY), ip: '10.0.0.2', now: T0, authType: 'api-key' });
    expect(await apply([{ name: 'fw', key: NEW_KEY }])).toEqual([{ name: 'fw', kind: 'bouncer', change: 'updated' }]);
    expect(await bouncersByKeyHash(store, hashApiKey(KEY))).toEqual([]);
    expect((await bouncersByKeyHash(store, hashApiKey(NEW_KEY))).map((b) => b.name).sort()).toEqual(['fw', 'fw@10.0.0.2']);
    expect(lines.join('')).not.toContain(NEW_KEY);
  });

  it('refuses a key another bouncer uses, naming that bouncer', async () => {
    await createBouncer(store, { name: 'other', apiKeyHash: hashApiKey(NEW_KEY), now: T0 });
    await createBouncer(store, { name: 'fw', apiKeyHash: hashApiKey(KEY), now: T0 });
    await expect(apply([{ name: 'fw', key: NEW_KEY }])).rejects.toThrow('already used by bouncer other');
    await expect(apply([{ name: 'new', key: NEW_KEY }])).rejects.toThrow('already used by bouncer other');
  });

  it('adds the machine validated, then gives it a new password only when it changed', async () => {
    expect(await apply([], { name: 'agent-1', password: 'pw-one' })).toEqual([{ name: 'agent-1', kind: 'machine', change: 'added' }]);
    const m = await getMachine(store, 'agent-1');
    expect(m?.isValidated).toBe(true);
    expect(await apply([], { name: 'agent-1', password: 'pw-one' })).toEqual([{ name: 'agent-1', kind: 'machine', change: 'unchanged' }]);
    expect(await apply([], { name: 'agent-1', password: 'pw-two' })).toEqual([{ name: 'agent-1', kind: 'machine', change: 'updated' }]);
    expect(await verifyMachinePassword('pw-two', (await getMachine(store, 'agent-1'))!.passwordHash)).toBe(true);
    expect(lines.join('')).not.toContain('pw-two');
  });
});
