// Internals for tests and sibling packages; not part of the public API.
export { Spool, readSegment } from './spool.ts';
export type { SegmentContents, SpoolSegment } from './spool.ts';
export { SpoolDecoder, encodeSpan } from './spool-codec.ts';
export { DecisionCounter } from './decision-counter.ts';
