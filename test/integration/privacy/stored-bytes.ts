// What a file on disk holds, readable: its bytes, and when it is a ClickHouse compressed file (column data, marks)
// its blocks decompressed too — ZSTD (every string column of our tables) and LZ4 (the default codec) hide text
// that a plain byte search would miss.
import { readFile } from 'node:fs/promises';
import { zstdDecompressSync } from 'node:zlib';

// ClickHouse CompressionMethodByte values.
const NONE = 0x02;
const LZ4 = 0x82;
const ZSTD = 0x90;
/** Codecs that only ever encode numbers here (Multiple = Delta/T64 + ZSTD on time and integer columns). */
const NUMERIC_ONLY = new Set([0x91, 0x92, 0x93, 0x94, 0x95]);
/** Block header: 16-byte checksum, method byte, compressed size (header included), decompressed size. */
const CHECKSUM_BYTES = 16;
const HEADER_BYTES = 9;

/** Decodes one LZ4 block (the raw block format, no frame) of `size` bytes. */
function lz4Block(src: Buffer, size: number): Buffer {
  const out = Buffer.alloc(size);
  let i = 0;
  let o = 0;
  const length = (initial: number): number => {
    let n = initial;
    if (n === 15) {
      let b: number;
      do {
        b = src[i++]!;
        n += b;
      } while (b === 255);
    }
    return n;
  };
  while (i < src.length) {
    const token = src[i++]!;
    const literals = length(token >> 4);
    src.copy(out, o, i, i + literals);
    i += literals;
    o += literals;
    if (i >= src.length) break;
    const offset = src[i]! | (src[i + 1]! << 8);
    i += 2;
    const match = length(token & 15) + 4;
    for (let k = 0; k < match; k++, o++) out[o] = out[o - offset]!;
  }
  return out.subarray(0, o);
}

/** The decompressed blocks of a ClickHouse compressed file, or undefined when the bytes are not one. */
function clickHouseBlocks(bytes: Buffer): Buffer[] | undefined {
  const blocks: Buffer[] = [];
  let at = 0;
  while (at < bytes.length) {
    if (at + CHECKSUM_BYTES + HEADER_BYTES > bytes.length) return undefined;
    const method = bytes[at + CHECKSUM_BYTES]!;
    const compressed = bytes.readUInt32LE(at + CHECKSUM_BYTES + 1);
    const decompressed = bytes.readUInt32LE(at + CHECKSUM_BYTES + 5);
    const end = at + CHECKSUM_BYTES + compressed;
    if (compressed < HEADER_BYTES || end > bytes.length) return undefined;
    const payload = bytes.subarray(at + CHECKSUM_BYTES + HEADER_BYTES, end);
    try {
      if (method === NONE) blocks.push(payload);
      else if (method === LZ4) blocks.push(lz4Block(payload, decompressed));
      else if (method === ZSTD) blocks.push(zstdDecompressSync(payload));
      else if (!NUMERIC_ONLY.has(method)) return undefined;
    } catch {
      return undefined;
    }
    at = end;
  }
  return blocks;
}

/** Whether the file holds `needle`, as stored or inside its ClickHouse-compressed blocks. */
export async function fileHolds(file: string, needle: Buffer): Promise<boolean> {
  // A file the engine removes between listing and reading held nothing that is still on disk.
  const bytes = await readFile(file).catch(() => Buffer.alloc(0));
  if (bytes.includes(needle)) return true;
  return clickHouseBlocks(bytes)?.some((block) => block.includes(needle)) ?? false;
}
