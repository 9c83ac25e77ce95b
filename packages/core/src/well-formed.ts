/** ES2024 string methods (native in Node ≥ 20; not in the es2023 lib this repo compiles against). */
interface Es2024String {
  isWellFormed(): boolean;
  toWellFormed(): string;
}

/** Replaces lone surrogates with U+FFFD, as UTF-8 encoding on the OTLP wire does (ES2024 `toWellFormed`). */
export function toWellFormed(value: string): string {
  return (value as unknown as Es2024String).toWellFormed();
}

/** Whether a string is well-formed Unicode (ES2024 `isWellFormed`). */
export function isWellFormed(value: string): boolean {
  return (value as unknown as Es2024String).isWellFormed();
}
