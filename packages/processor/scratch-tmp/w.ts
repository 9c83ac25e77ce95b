import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { WriteAheadLog } from '../src/write-ahead-log.ts';
const dir = await mkdtemp(path.join(os.tmpdir(), 'dt-wal-'));
const wal = await WriteAheadLog.open({ dir, segmentBytes: 64 * 1024 });
console.log('opened');
for (let i = 0; i < 3; i += 1) { await wal.append(2, new TextEncoder().encode(`entry-${i}`), 1); console.log('appended', i); }
