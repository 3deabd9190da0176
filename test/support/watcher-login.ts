import type { RunningServer } from '../../src/app/serve.ts';
import { hashMachinePassword } from '../../src/lib/password.ts';
import { createMachine } from '../../src/store/machines.ts';
import { requestFrom } from './http-from.ts';

/**
 * A validated machine added to the server's store, then logged in over the Local API as an agent
 * logs in (`POST /v1/watchers/login` with its User-Agent): its JWT.
 */
export async function loginNewMachine(server: RunningServer, machineId: string, password: string, userAgent: string): Promise<string> {
  await createMachine(server.store, { machineId, passwordHash: await hashMachinePassword(password), now: Date.now(), isValidated: true });
  const login = await requestFrom(`${server.url}/v1/watchers/login`, {
    method: 'POST',
    headers: { 'User-Agent': userAgent, 'Content-Type': 'application/json' },
    body: JSON.stringify({ machine_id: machineId, password, scenarios: [] }),
  });
  if (login.status !== 200) throw new Error(`login of ${machineId}: ${login.status} ${login.text}`);
  return (JSON.parse(login.text) as { token: string }).token;
}
