import {
  closeSync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  statSync,
  unlinkSync,
  writeSync,
  writevSync,
} from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { SigningError } from '@decisiontrail/core';

/** Bytes before each record's payload: payload length and CRC-32 of the payload, both uint32 LE. */
const HEADER_BYTES = 8;
const SEGMENT_PATTERN = /^segment-(\d{16})\.log$/u;

/** A segment file of the spool. */
export interface SpoolSegment {
  /** Monotonic segment number. */
  id: number;
  path: string;
}

/** What reading a segment found. */
export interface SegmentContents {
  /** Intact record payloads in append order. */
  records: Buffer[];
  /** Records skipped because their CRC did not match. */
  corrupt: number;
  /** Byte offset where the intact prefix ends if the file ends in a torn (partial) record. */
  truncatedAt?: number;
}

/**
 * An append-only on-disk spool of length-prefixed, CRC-32-checked records in segment files.
 * Appends are synchronous `write(2)` calls, so an appended record survives the process being
 * killed; `sync()` adds `fsync(2)` so it also survives the machine losing power.
 */
export class Spool {
  readonly dir: string;
  #fd: number | undefined;
  #activeId: number;
  #activeBytes = 0;
  #totalBytes = 0;
  #closed = false;
  #unsynced = false;

  constructor(dir: string) {
    this.dir = dir;
    // The spool holds audit data: owner-only directory and files.
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const segments = this.segments();
    this.#activeId = (segments[segments.length - 1]?.id ?? 0) + 1;
    for (const segment of segments) this.#totalBytes += statSync(segment.path).size;
  }

  /** Total bytes in all segment files. */
  get bytes(): number {
    return this.#totalBytes;
  }

  /** Bytes in the segment being appended to (0 when none is open). */
  get activeBytes(): number {
    return this.#fd === undefined ? 0 : this.#activeBytes;
  }

  /** Segment files, oldest first (including the active one). */
  segments(): SpoolSegment[] {
    return readdirSync(this.dir)
      .flatMap((name) => {
        const match = SEGMENT_PATTERN.exec(name);
        return match ? [{ id: Number(match[1]), path: join(this.dir, name) }] : [];
      })
      .sort((a, b) => a.id - b.id);
  }

  /** Segments that are complete and may be shipped: all but the one being appended to. */
  sealedSegments(): SpoolSegment[] {
    return this.segments().filter((segment) => this.#fd === undefined || segment.id !== this.#activeId);
  }

  /** Appends one record to the active segment (opening one if needed). */
  append(payload: Uint8Array): void {
    if (this.#closed) throw new SigningError('SPOOL_CLOSED', 'the spool is closed');
    if (this.#fd === undefined) {
      this.#fd = openSync(segmentPath(this.dir, this.#activeId), 'a', 0o600);
      this.#activeBytes = 0;
    }
    const header = Buffer.allocUnsafe(HEADER_BYTES);
    header.writeUInt32LE(payload.length, 0);
    header.writeUInt32LE(crc32(payload), 4);
    const length = HEADER_BYTES + payload.length;
    // One write(2) for header and payload; a short write (rare, e.g. disk full) is finished piecewise.
    const written = writevSync(this.#fd, [header, payload]);
    if (written < length) {
      const rest = Buffer.concat([header, payload]).subarray(written);
      for (let offset = 0; offset < rest.length;) offset += writeSync(this.#fd, rest, offset);
    }
    this.#activeBytes += length;
    this.#totalBytes += length;
    this.#unsynced = true;
  }

  /** fsyncs the active segment. */
  sync(): void {
    if (this.#fd !== undefined && this.#unsynced) fsyncSync(this.#fd);
    this.#unsynced = false;
  }

  /** Closes the active segment so it can be shipped; the next append starts a new one. */
  roll(): void {
    if (this.#fd === undefined) return;
    this.sync();
    closeSync(this.#fd);
    this.#fd = undefined;
    this.#activeId += 1;
  }

  /** Deletes a shipped (acknowledged) segment. */
  remove(segment: SpoolSegment): void {
    const size = statSync(segment.path).size;
    unlinkSync(segment.path);
    this.#totalBytes -= size;
  }

  /** Cuts a torn record off the end of a segment so appends after a crash stay readable. */
  truncate(segment: SpoolSegment, length: number): void {
    const fd = openSync(segment.path, 'r+');
    try {
      const before = statSync(segment.path).size;
      ftruncateSync(fd, length);
      fsyncSync(fd);
      this.#totalBytes -= before - length;
    } finally {
      closeSync(fd);
    }
  }

  /** Closes the active segment file. */
  close(): void {
    if (this.#fd !== undefined) {
      this.sync();
      closeSync(this.#fd);
      this.#fd = undefined;
    }
    this.#closed = true;
  }
}

function segmentPath(dir: string, id: number): string {
  return join(dir, `segment-${String(id).padStart(16, '0')}.log`);
}

/**
 * Reads a segment: every record whose CRC matches, skipping (and counting) those that do not. A
 * partial record at the end (a write cut short by a crash) ends the segment.
 */
export function readSegment(segment: SpoolSegment): SegmentContents {
  const data = readFileSync(segment.path);
  const records: Buffer[] = [];
  let corrupt = 0;
  let offset = 0;
  while (offset < data.length) {
    if (offset + HEADER_BYTES > data.length) return { records, corrupt, truncatedAt: offset };
    const length = data.readUInt32LE(offset);
    const expected = data.readUInt32LE(offset + 4);
    const end = offset + HEADER_BYTES + length;
    if (end > data.length) return { records, corrupt, truncatedAt: offset };
    const payload = data.subarray(offset + HEADER_BYTES, end);
    if (crc32(payload) === expected) records.push(payload);
    else corrupt += 1;
    offset = end;
  }
  return { records, corrupt };
}
