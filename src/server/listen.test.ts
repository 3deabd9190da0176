import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { listenOn } from './listen.ts';

describe('listenOn', () => {
  it('binds, and names the setting and the fix when the port is taken', async () => {
    const first = http.createServer();
    await listenOn(first, { host: '127.0.0.1', port: 0 }, 'listen', 'pick another');
    const port = (first.address() as AddressInfo).port;
    try {
      await expect(listenOn(http.createServer(), { host: '127.0.0.1', port }, 'admin_listen', 'pick another')).rejects.toThrow(
        `admin_listen 127.0.0.1:${port}: address already in use; pick another`,
      );
    } finally {
      await new Promise((r) => first.close(r));
    }
  });
});
