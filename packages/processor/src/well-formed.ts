// `String.prototype.toWellFormed` (ES2024) exists on the Node 22 this package requires; the shared compiler
// settings target ES2023 typings, so it is reached through this one typed helper.
const nativeToWellFormed = (String.prototype as unknown as { toWellFormed: (this: string) => string })
  .toWellFormed;

/** Replaces lone surrogates with U+FFFD, as protobuf's UTF-8 encoding does. */
export function toWellFormed(value: string): string {
  return nativeToWellFormed.call(value);
}
