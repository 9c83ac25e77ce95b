import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/**
 * The lowest port the kernel hands out on its own (to `listen(0)` and to every outgoing connection):
 * the first number of `/proc/sys/net/ipv4/ip_local_port_range`, 32768 where that cannot be read.
 */
function ephemeralRangeStart(): number {
  try {
    const first = Number(
      readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0],
    );
    if (Number.isInteger(first) && first > 1024) return first;
  } catch {
    // Not Linux, or /proc not mounted: the usual default.
  }
  return 32768;
}

const LOWEST = 20_000;
const RANGE_END = Math.max(LOWEST + 1_000, ephemeralRangeStart());
const handedOut = new Set<number>();

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen({ port, host: '127.0.0.1', exclusive: true }, () => probe.close(() => resolve(true)));
  });
}

/**
 * A loopback port nobody listens on now, for a process the test starts later (a Collector, `serve`, a
 * server that must come back on the same port after a restart).
 *
 * The port comes from below the kernel's ephemeral range, not from `listen(0)`: a port picked by
 * `listen(0)` and released is the kind the kernel hands to the next outgoing connection of any process
 * on the machine, so with another test suite running beside this one it is often taken before the
 * started process binds it ("address already in use"). Below the range only explicit binds compete,
 * and the numbers are drawn at random over some 12,000 ports; each is handed out once per process.
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt += 1) {
    const port = LOWEST + Math.floor(Math.random() * (RANGE_END - LOWEST));
    if (handedOut.has(port)) continue;
    if (await bindable(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error(`no free loopback port between ${LOWEST} and ${RANGE_END - 1} after 200 tries`);
}
