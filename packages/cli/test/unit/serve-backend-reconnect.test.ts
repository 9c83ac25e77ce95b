import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { openServeBackend } from '@decisiontrail/cli/internal';
import { afterEach, describe, expect, it } from 'vitest';

// serve closes a kept-alive connection once it has been idle for its keep-alive timeout. A CLI busy past that
// timeout sends its next query on the connection before it sees the close, and the connection is reset. This
// server plays that race deterministically: on each connection it answers the first `answered` requests and
// resets the connection when the next one arrives, without reading it.

interface Resetting {
  url: string;
  connections: number;
  requests: string[];
}

let server: Server | undefined;
const sockets = new Set<Socket>();

afterEach(async () => {
  for (const socket of sockets) socket.destroy();
  sockets.clear();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

async function startResettingServer(answered: number): Promise<Resetting> {
  const state: Resetting = { url: '', connections: 0, requests: [] };
  server = createServer((socket: Socket) => {
    state.connections += 1;
    sockets.add(socket);
    let served = 0;
    let buffered = '';
    socket.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('latin1');
      for (;;) {
        const end = buffered.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = buffered.slice(0, end);
        const length = Number(/content-length: *(\d+)/i.exec(head)?.[1] ?? 0);
        if (buffered.length < end + 4 + length) return;
        buffered = buffered.slice(end + 4 + length);
        if (served === answered) {
          socket.resetAndDestroy();
          return;
        }
        served += 1;
        state.requests.push(head.split(' ')[1] ?? '');
        const body = '{"result":[]}';
        socket.write(
          `HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n` +
            'connection: keep-alive\r\nkeep-alive: timeout=60\r\n\r\n' +
            body,
        );
      }
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(server!.address() as AddressInfo).port}`;
  return state;
}

const credentials = { token: undefined, ca: undefined };

describe('the CLI reaching serve over a kept-alive connection', () => {
  it('sends a query again, on a new connection, when serve reset the idle connection it was sent on', async () => {
    const serve = await startResettingServer(1);
    const backend = openServeBackend({ pid: process.pid, url: serve.url }, credentials);
    expect(await backend.queries.listIncidents({})).toEqual([]);
    // Sent on the kept-alive connection, which the server resets; answered on the second connection.
    expect(await backend.queries.listErasures({})).toEqual([]);
    expect(serve.connections).toBe(2);
    expect(serve.requests).toEqual(['/v1/query/listIncidents', '/v1/query/listErasures']);
  });

  it('fails, naming serve, when a new connection is reset too (no second retry, no retry of a fresh one)', async () => {
    const serve = await startResettingServer(0);
    const backend = openServeBackend({ pid: process.pid, url: serve.url }, credentials);
    await expect(backend.queries.listIncidents({})).rejects.toMatchObject({
      code: 'STORE_UNREACHABLE',
      message: expect.stringContaining('cannot reach decisiontrail serve'),
    });
    // A fresh connection that is reset is not retried: one connection, nothing answered.
    expect(serve.connections).toBe(1);
    expect(serve.requests).toEqual([]);
  });
});
