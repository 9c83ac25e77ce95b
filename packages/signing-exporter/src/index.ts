export { attributeValueToString, attributesToStringMap } from './attribute-string.ts';
export { canonicalJson } from './canonical-json.ts';
export type { CanonicalJsonValue } from './canonical-json.ts';
export {
  COMMITTED_RESOURCE_PREFIX,
  EXCLUDED_ATTRIBUTE_PREFIXES,
  INTEGRITY_ALGORITHM,
  canonicalSpan,
  canonicalSpanBytes,
  leafHash,
} from './canonical-span.ts';
export {
  CompactMerkleTree,
  HASH_SIZE,
  consistencyProof,
  emptyRoot,
  hashChildren,
  hashLeafData,
  inclusionProof,
  subtreeRoot,
  verifyConsistency,
  verifyInclusion,
} from './merkle-tree.ts';
export type { CompactMerkleTreeState } from './merkle-tree.ts';
export {
  SPAN_KIND_STRINGS,
  STATUS_CODE_STRINGS,
  hrTimeToNanosString,
  spanRecordFromReadableSpan,
} from './span-record.ts';
export type { SpanRecord, SpanRecordEvent, SpanRecordLink } from './span-record.ts';
