import { appendFile, mkdtemp, readdir, readFile, readlink, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { WriteAheadLog } from '@decisiontrail/processor/internal';

const dirs: string[] = [];
async function freshDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'dt-wal-'));
  dirs.push(dir);
  return dir;
}
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

/** Names of the files in `dir` whose bytes contain `text`. */
async function filesHolding(dir: string, text: string): Promise<string[]> {
  const out: string[] = [];
  for (const name of await readdir(dir)) {
    if ((await readFile(path.join(dir, name))).includes(text)) out.push(name);
  }
  return out;
}

async function drainAll(wal: WriteAheadLog): Promise<string[]> {
  const out: string[] = [];
  for (const entry of wal.take(Number.MAX_SAFE_INTEGER)) out.push((await wal.read(entry)).toString());
  return out;
}

describe('WriteAheadLog', () => {
  it('groups concurrent appends, hands them out in order and batches by span count', async () => {
    const wal = await WriteAheadLog.open({ dir: await freshDir(), segmentBytes: 1 << 20 });
    await Promise.all(Array.from({ length: 50 }, (_, i) => wal.append(1, bytes(`r${i}`), 10)));
    expect(wal.pendingEntries).toBe(50);
    const first = wal.take(25);
    expect(first).toHaveLength(2);
    expect((await wal.read(first[0]!)).toString()).toBe('r0');
    expect(wal.take(1)).toHaveLength(1);
    await wal.close();
  });

  it('replays everything not committed after a restart, with the committed state', async () => {
    const dir = await freshDir();
    const wal = await WriteAheadLog.open({ dir, segmentBytes: 64 * 1024 });
    for (let i = 0; i < 5; i += 1) await wal.append(2, bytes(`entry-${i}`), 1);
    const taken = wal.take(3);
    expect(taken).toHaveLength(3);
    await wal.commit(3, { trees: { s1: 3 } });
    // Taken but not committed: must come back after a restart.
    wal.take(2);
    await wal.close();
    const reopened = await WriteAheadLog.open({ dir, segmentBytes: 64 * 1024 });
    expect(reopened.state).toEqual({ trees: { s1: 3 } });
    expect(await drainAll(reopened)).toEqual(['entry-3', 'entry-4']);
    expect(reopened.take(10)[0]?.tag).toBeUndefined();
    await reopened.close();
  });

  it('hands out a planned batch after a restart exactly as before, whatever arrived after it', async () => {
    const dir = await freshDir();
    const wal = await WriteAheadLog.open({ dir, segmentBytes: 64 * 1024 });
    for (let i = 0; i < 2; i += 1) await wal.append(1, bytes(`early-${i}`), 1);
    const first = wal.take(100);
    await wal.planBatch(first);
    await wal.commit(first.length, { at: 2 });
    for (let i = 0; i < 2; i += 1) await wal.append(1, bytes(`mid-${i}`), 1);
    // Handed to the sinks while the log held only these two, then the process died before the commit.
    const second = wal.take(100);
    expect(second).toHaveLength(2);
    expect(wal.plannedDrops(second)).toBeUndefined();
    // The drain dropped the second span of the batch as a repeat.
    await wal.planBatch(second, [1]);
    for (let i = 0; i < 3; i += 1) await wal.append(1, bytes(`late-${i}`), 1);
    await wal.close();
    // A torn plan record (a crash during its write, before any sink saw that batch) is ignored.
    await appendFile(path.join(dir, 'batches.log'), Buffer.from([1, 2, 3, 4, 5]));

    const reopened = await WriteAheadLog.open({ dir, segmentBytes: 64 * 1024 });
    expect(reopened.state).toEqual({ at: 2 });
    const replayed = reopened.take(100);
    expect(await Promise.all(replayed.map(async (e) => (await reopened.read(e)).toString()))).toEqual([
      'mid-0',
      'mid-1',
    ]);
    expect(reopened.plannedDrops(replayed)).toEqual([1]);
    await reopened.planBatch(replayed);
    await reopened.commit(replayed.length, { at: 4 });
    expect(await drainAll(reopened)).toEqual(['late-0', 'late-1', 'late-2']);
    await reopened.close();
  });

  it('rewrites the batch plan with only the outstanding batches once it grows', async () => {
    const dir = await freshDir();
    const wal = await WriteAheadLog.open({ dir, segmentBytes: 64 * 1024, planCompactBytes: 64 });
    for (let i = 0; i < 4; i += 1) {
      await wal.append(1, bytes(`e${i}`), 1);
      await wal.planBatch(wal.take(1));
      // As the drain does: batch i is handed out before batch i - 1 commits.
      if (i > 0) await wal.commit(1, { at: i });
    }
    // Four records reached the limit: the three committed batches went, the one handed out stays.
    expect((await stat(path.join(dir, 'batches.log'))).size).toBe(16);
    await wal.append(1, bytes('after'), 1);
    await wal.close();
    const reopened = await WriteAheadLog.open({ dir, segmentBytes: 64 * 1024 });
    expect(
      await Promise.all(reopened.take(100).map(async (e) => (await reopened.read(e)).toString())),
    ).toEqual(['e3']);
    expect(reopened.take(100)).toHaveLength(1);
    await reopened.close();
  });

  it('cuts off a torn tail (a write that never completed its fsync) and keeps appending after it', async () => {
    const dir = await freshDir();
    const wal = await WriteAheadLog.open({ dir, segmentBytes: 64 * 1024 });
    await wal.append(1, bytes('kept'), 1);
    await wal.close();
    const [segment] = await readdir(dir);
    const file = path.join(dir, segment!);
    const sizeBefore = (await stat(file)).size;
    await appendFile(file, Buffer.from([200, 0, 0, 0, 1, 2, 3]));
    const reopened = await WriteAheadLog.open({ dir, segmentBytes: 64 * 1024 });
    expect((await stat(file)).size).toBe(sizeBefore);
    await reopened.append(1, bytes('after'), 1);
    expect(await drainAll(reopened)).toEqual(['kept', 'after']);
    await reopened.close();
  });

  it('reads the entries of a batch together, across segments, each its own bytes, leaving no file open after close', async () => {
    const dir = await freshDir();
    const wal = await WriteAheadLog.open({ dir, segmentBytes: 64 * 1024 });
    const written = Array.from({ length: 40 }, (_, i) => `entry-${i}-${'x'.repeat(8000 + i)}`);
    for (const text of written) await wal.append(1, bytes(text), 1);
    const entries = wal.take(Number.MAX_SAFE_INTEGER);
    expect(new Set(entries.map((entry) => entry.segment)).size).toBeGreaterThan(2);
    const read = await Promise.all(entries.map((entry) => wal.read(entry)));
    expect(read.map((body) => body.toString())).toEqual(written);
    await wal.close();
    // Linux: every descriptor of this process that still points into the log's directory.
    const open: string[] = [];
    for (const fd of await readdir('/proc/self/fd')) {
      const target = await readlink(`/proc/self/fd/${fd}`).catch(() => '');
      if (target.startsWith(dir)) open.push(target);
    }
    expect(open).toEqual([]);
  });

  it('rolls segments and deletes the ones fully drained', async () => {
    const dir = await freshDir();
    const wal = await WriteAheadLog.open({ dir, segmentBytes: 64 * 1024 });
    const payload = new Uint8Array(40 * 1024);
    for (let i = 0; i < 6; i += 1) await wal.append(1, payload, 1);
    expect((await readdir(dir)).filter((n) => n.endsWith('.wal')).length).toBeGreaterThanOrEqual(3);
    const all = wal.take(100);
    for (const entry of all) await wal.read(entry);
    await wal.commit(all.length, null);
    // The segment appended to was fully drained too: a new, empty one takes its place.
    const left = (await readdir(dir)).filter((n) => n.endsWith('.wal'));
    expect(left).toHaveLength(1);
    expect((await stat(path.join(dir, left[0]!))).size).toBe(0);
    expect(wal.pendingBytes).toBe(0);
    await wal.close();
  });

  it('keeps no drained record on disk, and resumes after the retired segment on restart', async () => {
    const dir = await freshDir();
    const wal = await WriteAheadLog.open({ dir, segmentBytes: 1 << 20 });
    await wal.append(1, bytes('secret-drained'), 1);
    await wal.append(1, bytes('secret-pending'), 1);
    wal.take(1);
    await wal.commit(1, { at: 1 });
    // The segment still holds an undrained record: it stays.
    expect(await filesHolding(dir, 'secret-pending')).toHaveLength(1);
    const rest = wal.take(10);
    await wal.commit(rest.length, { at: 2 });
    expect(await filesHolding(dir, 'secret-')).toEqual([]);
    await wal.append(1, bytes('later'), 1);
    await wal.close();
    const reopened = await WriteAheadLog.open({ dir, segmentBytes: 1 << 20 });
    expect(reopened.state).toEqual({ at: 2 });
    expect(await drainAll(reopened)).toEqual(['later']);
    await reopened.close();
  });

  it('creates its directory and files owner-only', async () => {
    const dir = path.join(await freshDir(), 'queue');
    const wal = await WriteAheadLog.open({ dir, segmentBytes: 64 * 1024, planCompactBytes: 1 });
    await wal.append(1, new Uint8Array(70 * 1024), 1);
    await wal.append(1, bytes('x'), 1);
    const taken = wal.take(1);
    await wal.planBatch(taken);
    await wal.commit(1, null);
    await wal.close();
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
    const names = await readdir(dir);
    expect(names).toEqual(expect.arrayContaining(['state.json', 'batches.log']));
    for (const name of names)
      expect([name, (await stat(path.join(dir, name))).mode & 0o777]).toEqual([name, 0o600]);
  });

  it('refuses to open over damage in a middle segment', async () => {
    const dir = await freshDir();
    const wal = await WriteAheadLog.open({ dir, segmentBytes: 64 * 1024 });
    const payload = new Uint8Array(70 * 1024);
    await wal.append(1, payload, 1);
    await wal.append(1, payload, 1);
    await wal.close();
    const [first] = (await readdir(dir)).filter((n) => n.endsWith('.wal')).sort();
    await appendFile(path.join(dir, first!), Buffer.from([1, 2, 3]));
    await expect(WriteAheadLog.open({ dir, segmentBytes: 64 * 1024 })).rejects.toMatchObject({
      code: 'WAL_CORRUPT',
    });
  });
});
