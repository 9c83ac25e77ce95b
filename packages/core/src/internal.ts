// Internals for tests and sibling packages; not part of the public API.
export { authenticateStream } from './verify-spans.ts';
export {
  validateCheckpointRecord,
  validateCheckpointNote,
  isCheckpointRecord,
  streamOf,
  streamOfNote,
  streamOfOrigin,
  seqOf,
  verifierLeafHex,
} from './record-classifier.ts';
export { isWellFormed, toWellFormed } from './well-formed.ts';
export {
  UnsupportedGoJsonValue,
  compareUtf8,
  goJsonDouble,
  goJsonObject,
  goJsonString,
} from './attribute-string.ts';
export { sameRange } from './byte-range.ts';
export { EncodedSpan, SPAN_FIELD, encodedLeafHex, isUtf8 } from './encoded-span.ts';
export { strictBase64 } from './signed-note.ts';
export { nameThread, threadModule } from './thread-module.ts';
