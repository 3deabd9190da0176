import type { RunningServer } from '../../src/app/serve.ts';
import { hashMachinePassword } from '../../src/lib/password.ts';
import { createMachine } from '../../src/store/machines.ts';
import { requestFrom } from './http-from.ts';

/** `POST /v1/watchers/login` to the Local API at `apiUrl` as an agent sends it (`body` as JSON unless already text): the raw answer. */
export function postWatcherLogin(apiUrl: string, body: unknown, userAgent: string) {
  return requestFrom(new URL('v1/watchers/login', apiUrl).href, {
    method: 'POST',
    headers: { 'User-Agent': userAgent, 'Content-Type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

/**
 * `machineId` logged in to the Local API at `apiUrl` as an agent logs in (`POST /v1/watchers/login`
 * with its User-Agent): its JWT. Fails naming the machine unless the answer is 200.
 */
export async function loginMachine(apiUrl: string, machineId: string, password: string, userAgent: string): Promise<string> {
  const login = await postWatcherLogin(apiUrl, { machine_id: machineId, password, scenarios: [] }, userAgent);
  if (login.status !== 200) throw new Error(`login of ${machineId}: ${login.status} ${login.text}`);
  return (JSON.parse(login.text) as { token: string }).token;
}

/** A validated machine added to the server's store, then logged in over its Local API (loginMachine): its JWT. */
export async function loginNewMachine(server: RunningServer, machineId: string, password: string, userAgent: string): Promise<string> {
  await createMachine(server.store, { machineId, passwordHash: await hashMachinePassword(password), now: Date.now(), isValidated: true });
  return loginMachine(server.url, machineId, password, userAgent);
}
