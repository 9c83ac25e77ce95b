// Written into one reused buffer: the bytes are hashed and measured at once, never kept.
let buffer: Uint8Array<ArrayBuffer> = new Uint8Array(16 * 1024);
// The same bytes four at a time, for the scan of long strings.
let words = new Int32Array(buffer.buffer);
let length = 0;
// A buffer grown for one very large value is dropped afterwards rather than held for the life of the process.
const KEPT_BYTES = 1 << 20;
// Deeper values are left to JSON.stringify (which the recursion here must not outrun).
const MAX_DEPTH = 32;
const encoder = new TextEncoder();

/**
 * The text an input or output is hashed, redacted or encrypted as: strings as they are, anything else as JSON.
 * A stable form matters because an auditor recomputes the HMAC from the original data.
 */
export function auditText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === undefined) return '';
  return JSON.stringify(value) ?? '';
}

/**
 * The UTF-8 bytes of {@link auditText} of `value`, for a field whose HMAC and size are recorded but whose text is
 * not (capture modes `hash` and `none`). Chat messages — arrays of plain objects of strings — are written straight
 * into a reused buffer: no JSON string is built and then encoded a second time for the HMAC. Anything else (class
 * instances, `toJSON`, numbers that are not finite, values JSON leaves out of arrays) is written from
 * `JSON.stringify`, and so is every string that needs escaping or is not ASCII: the bytes are always exactly those
 * of `auditText(value)` (property-tested against it). Throws what `JSON.stringify` throws (a cycle, a BigInt).
 *
 * The view returned is overwritten by the next call: use it before calling again.
 */
export function auditTextBytes(value: unknown): Uint8Array {
  length = 0;
  if (typeof value === 'string') writeUtf8(value);
  else if (value !== undefined && !writeJson(value, 0)) {
    length = 0;
    writeUtf8(auditText(value));
  }
  const bytes = buffer.subarray(0, length);
  if (buffer.length > KEPT_BYTES) setBuffer(new Uint8Array(16 * 1024));
  return bytes;
}

/** Appends one JSON value; false (with part of it written) when it is not of the shapes written here. */
function writeJson(value: unknown, depth: number): boolean {
  switch (typeof value) {
    case 'string':
      writeJsonString(value);
      return true;
    case 'boolean':
      writeAscii(value ? 'true' : 'false');
      return true;
    case 'number':
      if (!Number.isFinite(value)) return false;
      // JSON writes a finite number as Number.prototype.toString does.
      writeAscii(String(value));
      return true;
    case 'object':
      if (value === null) {
        writeAscii('null');
        return true;
      }
      if (depth >= MAX_DEPTH || typeof (value as { toJSON?: unknown }).toJSON === 'function') return false;
      if (Array.isArray(value)) return writeArray(value, depth);
      if (Object.getPrototypeOf(value) !== Object.prototype) return false;
      return writeObject(value as Record<string, unknown>, depth);
    default:
      return false;
  }
}

function writeArray(values: readonly unknown[], depth: number): boolean {
  writeByte(0x5b); // [
  for (let index = 0; index < values.length; index++) {
    if (index > 0) writeByte(0x2c); // ,
    const item = values[index];
    // JSON writes null for these in an array; rare enough to leave to it.
    if (item === undefined || typeof item === 'function' || typeof item === 'symbol') return false;
    if (!writeJson(item, depth + 1)) return false;
  }
  writeByte(0x5d); // ]
  return true;
}

function writeObject(object: Record<string, unknown>, depth: number): boolean {
  writeByte(0x7b); // {
  let first = true;
  // Object.keys lists the own enumerable string keys in the order JSON.stringify uses.
  for (const key of Object.keys(object)) {
    const item = object[key];
    // JSON leaves these properties out.
    if (item === undefined || typeof item === 'function' || typeof item === 'symbol') continue;
    if (!first) writeByte(0x2c); // ,
    first = false;
    writeJsonString(key);
    writeByte(0x3a); // :
    if (!writeJson(item, depth + 1)) return false;
  }
  writeByte(0x7d); // }
  return true;
}

/**
 * A JSON string: ASCII without quote, backslash or control characters as it is, anything else as JSON.stringify
 * writes it.
 */
function writeJsonString(text: string): void {
  const start = length;
  reserve(text.length + 2);
  buffer[length++] = 0x22; // "
  if (text.length <= 32) {
    // Short strings (keys, roles): a character loop is cheaper than the encoder's call.
    for (let index = 0; index < text.length; index++) {
      const code = text.charCodeAt(index);
      if (code < 0x20 || code === 0x22 || code === 0x5c || code > 0x7f) return writeEscaped(text, start);
      buffer[length++] = code;
    }
  } else {
    const { read, written } = encoder.encodeInto(text, buffer.subarray(length, length + text.length));
    // Fewer bytes than characters, or not all of them read: something outside ASCII.
    if (read !== text.length || written !== text.length) return writeEscaped(text, start);
    const end = length + written;
    if (needsEscape(length, end)) return writeEscaped(text, start);
    length = end;
  }
  buffer[length++] = 0x22; // "
}

/** Whether the ASCII bytes from `from` to `to` hold a quote, a backslash or a control character. */
function needsEscape(from: number, to: number): boolean {
  let index = from;
  for (; index < to && (index & 3) !== 0; index++) if (escaped(buffer[index]!)) return true;
  // Four bytes at a time (bytes below 0x80, so the borrow tricks are exact): one below 0x20, or one equal to '"' or '\'.
  const lastWord = to >> 2;
  for (let word = index >> 2; word < lastWord; word++) {
    const bytes = words[word]!;
    const quote = bytes ^ 0x22222222;
    const backslash = bytes ^ 0x5c5c5c5c;
    const found =
      ((bytes - 0x20202020) & ~bytes) |
      ((quote - 0x01010101) & ~quote) |
      ((backslash - 0x01010101) & ~backslash);
    if ((found & 0x80808080) !== 0) return true;
  }
  for (index = Math.max(index, lastWord << 2); index < to; index++) if (escaped(buffer[index]!)) return true;
  return false;
}

function escaped(code: number): boolean {
  return code < 0x20 || code === 0x22 || code === 0x5c;
}

function writeEscaped(text: string, start: number): void {
  length = start;
  writeUtf8(JSON.stringify(text));
}

function writeAscii(text: string): void {
  reserve(text.length);
  for (let index = 0; index < text.length; index++) buffer[length++] = text.charCodeAt(index);
}

function writeByte(byte: number): void {
  reserve(1);
  buffer[length++] = byte;
}

function writeUtf8(text: string): void {
  // At most three bytes per UTF-16 unit.
  reserve(text.length * 3);
  length += encoder.encodeInto(text, buffer.subarray(length)).written;
}

function reserve(bytes: number): void {
  if (length + bytes <= buffer.length) return;
  // A multiple of four, for the word view.
  const grown = new Uint8Array((Math.max(buffer.length * 2, length + bytes) + 3) & ~3);
  grown.set(buffer.subarray(0, length));
  setBuffer(grown);
}

function setBuffer(bytes: Uint8Array<ArrayBuffer>): void {
  buffer = bytes;
  words = new Int32Array(bytes.buffer);
}
