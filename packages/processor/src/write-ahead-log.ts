import { mkdir, open, readdir, readFile, rename, rm, truncate } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import { ProcessorError } from './errors.ts';

/** One durable record of the log: where it is and what it holds. */
export interface WalEntry {
  segment: number;
  offset: number;
  /** Payload bytes (the header is not counted). */
  length: number;
  /** Caller-defined payload kind (the receiver stores the body encoding). */
  tag: number;
  /** Spans in the payload, so the drain can size its batches without decoding. */
  spans: number;
}

/** A drained batch as recorded before any sink saw it. */
export interface BatchPlan {
  /** Where the batch ends (the position after its last entry). */
  end: WalPosition;
  /** Indices, among the batch's decoded spans, of those the drain dropped (repeats it remembered). */
  drops: number[];
}

/** A point in the log: everything before it has been drained. */
export interface WalPosition {
  segment: number;
  offset: number;
}

/** Options of {@link WriteAheadLog.open}. */
export interface WriteAheadLogOptions {
  dir: string;
  /** A new segment file starts once the current one reaches this size. */
  segmentBytes: number;
  /** The batch plan is rewritten with only its outstanding batches once it reaches this size. @default 65536 */
  planCompactBytes?: number;
}

interface PendingAppend {
  tag: number;
  payload: Uint8Array;
  spans: number;
  resolve: () => void;
  reject: (error: unknown) => void;
}

// Record layout: u32 payload length · u32 CRC-32 of (tag byte ‖ spans ‖ payload) · u8 tag · u32 spans · payload.
const HEADER_BYTES = 13;
const SEGMENT_PATTERN = /^(\d{12})\.wal$/;
const STATE_FILE = 'state.json';
// Batch plan: one record per drained batch, u32 segment · u32 offset of the batch's end · u32 n · n × u32
// indices of spans the drain dropped · u32 CRC-32 of all before it.
const PLAN_FILE = 'batches.log';
const PLAN_FIXED_BYTES = 16;
/** The log holds audit data: owner-only files in an owner-only directory. */
const FILE_MODE = 0o600;
const DIR_MODE = 0o700;

function segmentName(segment: number): string {
  return `${String(segment).padStart(12, '0')}.wal`;
}

function comparePositions(a: WalPosition, b: WalPosition): number {
  return a.segment - b.segment || a.offset - b.offset;
}

function entryEnd(entry: WalEntry): WalPosition {
  return { segment: entry.segment, offset: entry.offset + HEADER_BYTES + entry.length };
}

function planRecord(plan: BatchPlan): Buffer {
  const record = Buffer.alloc(PLAN_FIXED_BYTES + 4 * plan.drops.length);
  record.writeUInt32LE(plan.end.segment, 0);
  record.writeUInt32LE(plan.end.offset, 4);
  record.writeUInt32LE(plan.drops.length, 8);
  plan.drops.forEach((index, i) => record.writeUInt32LE(index, 12 + 4 * i));
  const body = record.length - 4;
  record.writeUInt32LE(crc32(record.subarray(0, body)), body);
  return record;
}

function recordCrc(header: Buffer, payload: Uint8Array): number {
  return crc32(payload, crc32(header.subarray(8, HEADER_BYTES)));
}

/**
 * A segmented write-ahead log with group commit: concurrent appends share one `write` and one `fdatasync`,
 * and each append resolves only after its bytes are on disk — the receiver acknowledges a request then.
 * The drainer's position and its own state (verifier trees) are committed together in one atomically
 * replaced file, so a restart resumes exactly where the last committed drain left off. Drained records are
 * not kept: a segment is deleted once everything in it is committed, the one being appended to included (the
 * next append starts a new one), so what the store later erases does not linger here.
 */
export class WriteAheadLog {
  readonly dir: string;
  private readonly segmentBytes: number;
  private readonly planCompactBytes: number;
  private handle: FileHandle;
  private segment: number;
  /** The oldest segment file that may still exist. */
  private firstSegment: number;
  private writeOffset: number;
  /**
   * Set by {@link commit} when it drained everything: the writer then retires the segment it appends to and
   * calls these.
   */
  private retireWaiters: (() => void)[] = [];
  private readonly entries: WalEntry[];
  private drainIndex = 0;
  private pendingBytesValue: number;
  private queue: PendingAppend[] = [];
  private flushing: Promise<void> | undefined;
  // Cleared in the same synchronous step that finds the queue empty, so no append is left unflushed.
  private flushActive = false;
  private failure: unknown;
  private closed = false;
  private waiters: (() => void)[] = [];
  /** Read handles by segment, as promises: a batch's entries are read together, each segment opened once. */
  private readonly readHandles = new Map<number, Promise<FileHandle>>();
  private committedState: unknown;
  private planHandle: FileHandle;
  /** Ends of batches handed out (or recorded before a restart) and not yet committed, in log order. */
  private readonly planned: BatchPlan[];
  /** How many of {@link planned} came from the plan file at open and are handed out again by {@link take}. */
  private replayPlans: number;
  private planBytes: number;
  private planChain: Promise<void> = Promise.resolve();

  private constructor(
    options: WriteAheadLogOptions,
    handle: FileHandle,
    segment: number,
    firstSegment: number,
    writeOffset: number,
    entries: WalEntry[],
    state: unknown,
    plan: { handle: FileHandle; plans: BatchPlan[]; bytes: number },
  ) {
    this.dir = options.dir;
    this.segmentBytes = options.segmentBytes;
    this.planCompactBytes = options.planCompactBytes ?? 64 * 1024;
    this.handle = handle;
    this.segment = segment;
    this.firstSegment = firstSegment;
    this.writeOffset = writeOffset;
    this.entries = entries;
    this.committedState = state;
    this.planHandle = plan.handle;
    this.planned = plan.plans;
    this.replayPlans = plan.plans.length;
    this.planBytes = plan.bytes;
    this.pendingBytesValue = entries.reduce((sum, e) => sum + e.length + HEADER_BYTES, 0);
  }

  /**
   * Opens (or creates) the log, replays what is on disk after the committed position and cuts off a torn
   * tail — bytes written without a completed fsync were never acknowledged.
   */
  static async open(options: WriteAheadLogOptions): Promise<WriteAheadLog> {
    await mkdir(options.dir, { recursive: true, mode: DIR_MODE });
    const saved = await readState(options.dir);
    const cursor = saved?.position ?? { segment: 0, offset: 0 };
    const segments = (await readdir(options.dir))
      .map((name) => SEGMENT_PATTERN.exec(name))
      .filter((m) => m !== null)
      .map((m) => Number(m[1]))
      .sort((a, b) => a - b);
    for (const s of segments.filter((s) => s < cursor.segment))
      await rm(path.join(options.dir, segmentName(s)));
    const live = segments.filter((s) => s >= cursor.segment);
    const entries: WalEntry[] = [];
    let lastSegment = live.at(-1) ?? cursor.segment;
    let lastEnd = lastSegment === cursor.segment ? cursor.offset : 0;
    for (const [i, segment] of live.entries()) {
      const file = path.join(options.dir, segmentName(segment));
      const bytes = await readFile(file);
      let offset = segment === cursor.segment ? cursor.offset : 0;
      while (offset + HEADER_BYTES <= bytes.length) {
        const length = bytes.readUInt32LE(offset);
        const end = offset + HEADER_BYTES + length;
        if (end > bytes.length) break;
        const header = bytes.subarray(offset, offset + HEADER_BYTES);
        if (recordCrc(header, bytes.subarray(offset + HEADER_BYTES, end)) !== bytes.readUInt32LE(offset + 4))
          break;
        entries.push({
          segment,
          offset,
          length,
          tag: bytes[offset + 8]!,
          spans: bytes.readUInt32LE(offset + 9),
        });
        offset = end;
      }
      if (offset < bytes.length) {
        if (i !== live.length - 1) {
          throw new ProcessorError(
            'WAL_CORRUPT',
            `write-ahead log segment ${file} is damaged at byte ${offset}`,
          );
        }
        await truncate(file, offset);
      }
      lastSegment = segment;
      lastEnd = offset;
    }
    const plan = await readPlan(options.dir, cursor, entries.at(-1));
    const handle = await open(path.join(options.dir, segmentName(lastSegment)), 'a', FILE_MODE);
    await syncDir(options.dir);
    const firstSegment = Math.min(live[0] ?? lastSegment, lastSegment);
    return new WriteAheadLog(
      options,
      handle,
      lastSegment,
      firstSegment,
      lastEnd,
      entries,
      saved?.state,
      plan,
    );
  }

  /** The drainer's state saved by the last {@link commit} (undefined on a fresh log). */
  get state(): unknown {
    return this.committedState;
  }

  /** Bytes appended but not yet committed as drained. */
  get pendingBytes(): number {
    return this.pendingBytesValue;
  }

  /** Entries appended but not yet committed as drained. */
  get pendingEntries(): number {
    return this.entries.length;
  }

  /** Appends one record; resolves once it is on disk. */
  append(tag: number, payload: Uint8Array, spans: number): Promise<void> {
    if (this.closed) return Promise.reject(new ProcessorError('CLOSED', 'write-ahead log is closed'));
    if (this.failure !== undefined) {
      return Promise.reject(
        new ProcessorError('WAL_FULL', 'write-ahead log failed earlier', { cause: this.failure }),
      );
    }
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ tag, payload, spans, resolve, reject });
      if (!this.flushActive) {
        this.flushActive = true;
        this.flushing = this.flushLoop();
      }
    });
  }

  private async flushLoop(): Promise<void> {
    for (;;) {
      if (this.retireWaiters.length > 0) {
        const waiters = this.retireWaiters;
        this.retireWaiters = [];
        try {
          await this.retire();
        } catch (error) {
          // A failed roll leaves no segment to append to: later appends fail, as after a failed write.
          this.failure ??= error;
        }
        for (const resolve of waiters) resolve();
      }
      if (this.queue.length === 0) {
        this.flushActive = false;
        return;
      }
      const batch = this.queue;
      this.queue = [];
      try {
        if (this.writeOffset >= this.segmentBytes) await this.roll();
        const buffers: Uint8Array[] = [];
        const added: WalEntry[] = [];
        let offset = this.writeOffset;
        for (const item of batch) {
          const header = Buffer.alloc(HEADER_BYTES);
          header.writeUInt32LE(item.payload.length, 0);
          header[8] = item.tag;
          header.writeUInt32LE(item.spans, 9);
          header.writeUInt32LE(recordCrc(header, item.payload), 4);
          buffers.push(header, item.payload);
          added.push({
            segment: this.segment,
            offset,
            length: item.payload.length,
            tag: item.tag,
            spans: item.spans,
          });
          offset += HEADER_BYTES + item.payload.length;
        }
        // One writev per group; beyond IOV_MAX-sized lists a single concatenated buffer is cheaper anyway.
        const { bytesWritten } = await this.handle.writev(
          buffers.length > 512 ? [Buffer.concat(buffers)] : buffers,
        );
        if (bytesWritten !== offset - this.writeOffset) throw new Error(`short write: ${bytesWritten} bytes`);
        await this.handle.datasync();
        this.writeOffset = offset;
        this.entries.push(...added);
        this.pendingBytesValue += added.reduce((sum, e) => sum + e.length + HEADER_BYTES, 0);
        for (const item of batch) item.resolve();
        this.wakeAll();
      } catch (error) {
        // A failed write may have left a torn record; nothing more is appended after it in this process.
        this.failure = error;
        for (const item of [...batch, ...this.queue.splice(0)]) item.reject(error);
      }
    }
  }

  private async roll(): Promise<void> {
    await this.handle.close();
    this.segment += 1;
    this.writeOffset = 0;
    this.handle = await open(path.join(this.dir, segmentName(this.segment)), 'a', FILE_MODE);
    await syncDir(this.dir);
  }

  /**
   * Runs in the writer's turn: when every record written is committed, the segment being appended to holds
   * only drained records, so appends move to a new segment and the old one is deleted. The committed position
   * (its end) stays valid: a restart finds no records after it and reads on from the next segment.
   */
  private async retire(): Promise<void> {
    if (this.entries.length > 0 || this.writeOffset === 0 || this.closed) return;
    await this.roll();
    await this.removeSegmentsBefore(this.segment);
  }

  /** Deletes the segment files before `segment` (all drained), closing their read handles. */
  private async removeSegmentsBefore(segment: number): Promise<void> {
    while (this.firstSegment < segment) {
      // Claimed before any await: the drain's commit and the writer's retire may both be removing.
      const claimed = this.firstSegment++;
      const handle = this.readHandles.get(claimed);
      this.readHandles.delete(claimed);
      await (await handle?.catch(() => undefined))?.close();
      await rm(path.join(this.dir, segmentName(claimed)), { force: true });
    }
  }

  /** Releases every {@link waitForEntries} caller (used when stopping). */
  wakeAll(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  /** Resolves when entries are available to take, or the log closes. */
  async waitForEntries(): Promise<void> {
    if (this.drainIndex < this.entries.length || this.closed) return;
    await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  /** Whether every appended entry has been handed to the drainer. */
  get drained(): boolean {
    return this.drainIndex >= this.entries.length;
  }

  /** Whether {@link close} was called. */
  get isClosed(): boolean {
    return this.closed;
  }

  /**
   * Hands out the next entries (at least one when any is available) up to `maxSpans` spans. After a restart,
   * batches recorded by {@link planBatch} before it are handed out again exactly as they were, whatever
   * `maxSpans` or the log now holds, so a replayed batch reaches the sinks as the identical block.
   */
  take(maxSpans: number): WalEntry[] {
    const out: WalEntry[] = [];
    const handed = this.planned.length - this.replayPlans;
    if (this.replayPlans > 0) {
      const { end } = this.planned[handed]!;
      this.replayPlans -= 1;
      while (this.drainIndex < this.entries.length) {
        const entry = this.entries[this.drainIndex]!;
        if (out.length > 0 && comparePositions(entry, end) >= 0) break;
        out.push(entry);
        this.drainIndex += 1;
      }
      return out;
    }
    let spans = 0;
    while (this.drainIndex < this.entries.length) {
      const entry = this.entries[this.drainIndex]!;
      if (out.length > 0 && spans + entry.spans > maxSpans) break;
      out.push(entry);
      spans += entry.spans;
      this.drainIndex += 1;
    }
    return out;
  }

  /**
   * The spans the drain dropped from this batch before a restart, when {@link take} handed it out again from
   * the plan (the replay drops the same ones); undefined for a batch not planned yet.
   */
  plannedDrops(entries: readonly WalEntry[]): readonly number[] | undefined {
    const last = entries.at(-1);
    if (last === undefined) return undefined;
    const end = entryEnd(last);
    return this.planned.find((p) => comparePositions(p.end, end) === 0)?.drops;
  }

  /**
   * Makes the boundary of a batch just handed out by {@link take}, and the spans the drain dropped from it,
   * durable before any sink sees the batch: a restart then hands out the same entries as one batch again (see
   * {@link take}) and {@link plannedDrops} tells which spans to drop. A no-op for a batch that {@link take}
   * replayed from the plan.
   */
  planBatch(entries: readonly WalEntry[], drops: readonly number[] = []): Promise<void> {
    const last = entries.at(-1);
    if (last === undefined) return Promise.resolve();
    const end = entryEnd(last);
    if (this.planned.some((p) => comparePositions(p.end, end) === 0)) return Promise.resolve();
    const plan = { end, drops: [...drops] };
    this.planned.push(plan);
    const record = planRecord(plan);
    this.planBytes += record.length;
    const written = this.planChain.then(async () => {
      await this.planHandle.write(record);
      await this.planHandle.datasync();
    });
    this.planChain = written.catch(() => undefined);
    return written;
  }

  /** Reads the payload of an entry. */
  async read(entry: WalEntry): Promise<Buffer> {
    let opening = this.readHandles.get(entry.segment);
    if (opening === undefined) {
      opening = open(path.join(this.dir, segmentName(entry.segment)), 'r');
      this.readHandles.set(entry.segment, opening);
      // A segment that failed to open is opened again by the next read.
      opening.catch(() => {
        if (this.readHandles.get(entry.segment) === opening) this.readHandles.delete(entry.segment);
      });
    }
    const handle = await opening;
    // Memory of its own (not Node's shared pool of small Buffers), so the drain can move it to the span worker.
    const out = Buffer.allocUnsafeSlow(entry.length);
    const { bytesRead } = await handle.read(out, 0, entry.length, entry.offset + HEADER_BYTES);
    if (bytesRead !== entry.length) {
      throw new ProcessorError('WAL_CORRUPT', `short read in segment ${entry.segment} at ${entry.offset}`);
    }
    return out;
  }

  /**
   * Records that the first `count` taken entries are drained, together with the drainer's state, in one
   * atomic file replace; then removes segments nobody needs any more.
   */
  async commit(count: number, state: unknown): Promise<void> {
    const done = this.entries.splice(0, count);
    this.drainIndex -= done.length;
    const last = done.at(-1);
    const position: WalPosition =
      this.entries[0] !== undefined
        ? { segment: this.entries[0].segment, offset: this.entries[0].offset }
        : last !== undefined
          ? { segment: last.segment, offset: last.offset + HEADER_BYTES + last.length }
          : { segment: this.segment, offset: this.writeOffset };
    this.pendingBytesValue -= done.reduce((sum, e) => sum + e.length + HEADER_BYTES, 0);
    this.committedState = state;
    if (last !== undefined) {
      const end = entryEnd(last);
      while (this.planned[0] !== undefined && comparePositions(this.planned[0].end, end) <= 0) {
        this.planned.shift();
        if (this.replayPlans > this.planned.length) this.replayPlans = this.planned.length;
      }
    }
    const tmp = path.join(this.dir, `${STATE_FILE}.tmp`);
    const fh = await open(tmp, 'w', FILE_MODE);
    try {
      await fh.writeFile(JSON.stringify({ position, state }));
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path.join(this.dir, STATE_FILE));
    await syncDir(this.dir);
    await this.removeSegmentsBefore(position.segment);
    if (this.entries.length === 0 && !this.closed) {
      const retired = new Promise<void>((resolve) => this.retireWaiters.push(resolve));
      if (!this.flushActive) {
        this.flushActive = true;
        this.flushing = this.flushLoop();
      }
      await retired;
    }
    if (this.planBytes >= this.planCompactBytes) {
      // Records at or before the committed position are stale. The rewrite runs in turn with the appends, and
      // keeps every batch handed out by then (one whose own append follows just repeats it, which is ignored).
      this.planBytes = 0;
      const compacted = this.planChain.then(async () => {
        const outstanding = this.planned.map(planRecord);
        this.planBytes = outstanding.reduce((sum, r) => sum + r.length, 0);
        const file = path.join(this.dir, PLAN_FILE);
        const fh = await open(`${file}.tmp`, 'w', FILE_MODE);
        try {
          await fh.writeFile(Buffer.concat(outstanding));
          await fh.sync();
        } finally {
          await fh.close();
        }
        await this.planHandle.close();
        await rename(`${file}.tmp`, file);
        await syncDir(this.dir);
        this.planHandle = await open(file, 'a', FILE_MODE);
      });
      this.planChain = compacted.catch(() => undefined);
      await compacted;
    }
  }

  /** Waits for in-flight appends, then closes the files. Entries not committed stay for the next start. */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.flushing;
    this.closed = true;
    this.wakeAll();
    await this.handle.close();
    await this.planChain;
    await this.planHandle.close();
    for (const handle of this.readHandles.values()) await (await handle.catch(() => undefined))?.close();
    this.readHandles.clear();
  }
}

async function readState(dir: string): Promise<{ position: WalPosition; state: unknown } | undefined> {
  let text: string;
  try {
    text = await readFile(path.join(dir, STATE_FILE), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    const parsed = JSON.parse(text) as { position: WalPosition; state: unknown };
    if (!Number.isInteger(parsed.position?.segment) || !Number.isInteger(parsed.position?.offset))
      throw new Error('bad position');
    return parsed;
  } catch (cause) {
    // The file is only ever replaced by rename after fsync, so a bad one means outside damage.
    throw new ProcessorError('WAL_CORRUPT', `unreadable write-ahead log state in ${dir}`, { cause });
  }
}

/**
 * Reads the batch plan: the ends of batches handed to the sinks before the last stop, past the committed
 * position and within the log. A torn last record was never followed by a sink write, so it is dropped.
 */
async function readPlan(
  dir: string,
  cursor: WalPosition,
  lastEntry: WalEntry | undefined,
): Promise<{ handle: FileHandle; plans: BatchPlan[]; bytes: number }> {
  const file = path.join(dir, PLAN_FILE);
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    bytes = Buffer.alloc(0);
  }
  const plans: BatchPlan[] = [];
  let valid = 0;
  for (let at = 0; at + PLAN_FIXED_BYTES <= bytes.length;) {
    const count = bytes.readUInt32LE(at + 8);
    const size = PLAN_FIXED_BYTES + 4 * count;
    if (at + size > bytes.length) break;
    const body = at + size - 4;
    if (crc32(bytes.subarray(at, body)) !== bytes.readUInt32LE(body)) break;
    const end = { segment: bytes.readUInt32LE(at), offset: bytes.readUInt32LE(at + 4) };
    const drops = Array.from({ length: count }, (_, i) => bytes.readUInt32LE(at + 12 + 4 * i));
    at += size;
    valid = at;
    const last = plans.at(-1);
    if (comparePositions(end, cursor) <= 0 || (last !== undefined && comparePositions(end, last.end) <= 0))
      continue;
    if (lastEntry === undefined || comparePositions(end, entryEnd(lastEntry)) > 0) continue;
    plans.push({ end, drops });
  }
  if (valid < bytes.length) await truncate(file, valid);
  const handle = await open(file, 'a', FILE_MODE);
  return { handle, plans, bytes: valid };
}

async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
