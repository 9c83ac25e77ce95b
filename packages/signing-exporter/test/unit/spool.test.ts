import { mkdtemp, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Spool, readSegment } from '@decisiontrail/signing-exporter/internal';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'signing-exporter-spool-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const payload = (i: number): Buffer => Buffer.from(`record-${i}-${'x'.repeat(i * 10)}`);

describe('Spool', () => {
  it('appends CRC-checked records into segments, rolls, accounts bytes and removes acknowledged segments', () => {
    const spool = new Spool(join(dir, 'basic'));
    for (let i = 0; i < 3; i++) spool.append(payload(i));
    expect(spool.sealedSegments()).toEqual([]);
    spool.roll();
    spool.append(payload(3));
    const [first, second] = spool.segments();
    expect(spool.sealedSegments()).toEqual([first]);
    expect(readSegment(first!).records.map(String)).toEqual([0, 1, 2].map((i) => String(payload(i))));
    const expectedBytes = [0, 1, 2, 3].reduce((sum, i) => sum + 8 + payload(i).length, 0);
    expect(spool.bytes).toBe(expectedBytes);
    spool.remove(first!);
    expect(spool.bytes).toBe(8 + payload(3).length);
    spool.close();
    // A new Spool over the same directory continues after the highest segment and counts its bytes.
    const reopened = new Spool(join(dir, 'basic'));
    expect(reopened.bytes).toBe(8 + payload(3).length);
    reopened.append(payload(4));
    expect(reopened.segments().map((s) => s.id)).toEqual([second!.id, second!.id + 1]);
    reopened.close();
    expect(() => reopened.append(payload(5))).toThrow(expect.objectContaining({ code: 'SPOOL_CLOSED' }));
  });

  it('creates its directory and segments owner-only', async () => {
    const spool = new Spool(join(dir, 'modes', 'spool'));
    spool.append(payload(1));
    spool.roll();
    spool.append(payload(2));
    spool.close();
    expect((await stat(join(dir, 'modes', 'spool'))).mode & 0o777).toBe(0o700);
    const segments = spool.segments();
    expect(segments).toHaveLength(2);
    for (const segment of segments) expect((await stat(segment.path)).mode & 0o777).toBe(0o600);
  });

  it('skips a record whose CRC does not match and stops at a torn tail', async () => {
    const spool = new Spool(join(dir, 'bad'));
    for (let i = 0; i < 4; i++) spool.append(payload(i));
    spool.close();
    const [segment] = spool.segments();
    const bytes = await readFile(segment!.path);
    const second = 8 + payload(0).length;
    bytes[second + 8]! ^= 0x01;
    await writeFile(segment!.path, bytes);
    await truncate(segment!.path, bytes.length - 3);
    const contents = readSegment(segment!);
    expect(contents.records.map(String)).toEqual([0, 2].map((i) => String(payload(i))));
    expect(contents.corrupt).toBe(1);
    expect(contents.truncatedAt).toBe(bytes.length - (8 + payload(3).length));
  });
});
