// The decisiontrail model: the span record and its canonical form, the Merkle log, signed notes
// and checkpoints, keys, the verifiers and their findings. No OpenTelemetry SDK dependency: the
// store, the processor and the CLI read and check records with this package alone.
export { attributeValueToString, attributesToStringMap } from './attribute-string.ts';
export { canonicalJson } from './canonical-json.ts';
export type { CanonicalJsonValue } from './canonical-json.ts';
export {
  COMMITTED_RESOURCE_PREFIX,
  EXCLUDED_ATTRIBUTE_PREFIXES,
  INTEGRITY_ALGORITHM,
  canonicalSpan,
  canonicalSpanBytes,
  canonicalSpanJson,
  leafHash,
  uncanonicalReason,
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
  SPAN_KIND_UNSPECIFIED,
  STATUS_CODE_STRINGS,
  normalizeSpanKind,
  normalizeStatusCode,
} from './span-record.ts';
export type { SpanRecord, SpanRecordEvent, SpanRecordLink } from './span-record.ts';
export { missingRequiredAttributes } from './required-attributes.ts';
export { SigningError } from './errors.ts';
export type { SigningErrorCode } from './errors.ts';
export {
  assertValidKeyName,
  computeKeyId,
  createNoteSigner,
  noteVerifierKey,
  noteText,
  openNote,
  parseVerifierKey,
} from './signed-note.ts';
export type { NoteSigner, NoteVerifierKey, OpenedNote } from './signed-note.ts';
export { formatCheckpoint, parseCheckpoint } from './checkpoint.ts';
export type { Checkpoint } from './checkpoint.ts';
export {
  DEFAULT_KEY_NAME,
  exportPublicKey,
  generateSigningKey,
  generateSigningKeyFile,
  loadSigningKey,
  loadVerifierKey,
  parseSigningKey,
  rotateSigningKeyFile,
  signingKeyFromKeyObject,
} from './key-file.ts';
export type { SigningKey } from './key-file.ts';
export {
  DEFAULT_WITNESS_PATH,
  FileCheckpointWitness,
  WITNESS_FILE_NAME,
  readWitnessEntries,
  readWitnessFile,
} from './checkpoint-witness.ts';
export type { CheckpointWitness, WitnessFileContents } from './checkpoint-witness.ts';
export { DEFAULT_ORIGIN_PREFIX, StreamSigner } from './stream-signer.ts';
export type { SignedCheckpoint, StreamSignerState } from './stream-signer.ts';
export { findingKind } from './findings.ts';
export type { Finding, FindingCode, FindingKind } from './findings.ts';
export { PUBLIC_KEY_SUFFIXES, loadTrustedKeys, trustedKeyFiles } from './trusted-keys.ts';
export type { TrustedKey, TrustedKeySource } from './trusted-keys.ts';
export { LogVerifier, type HashedLeafRecord } from './log-verifier.ts';
export { verifySpans } from './verify-spans.ts';
export type { StreamReport, VerificationReport, VerifySpansOptions } from './verify-spans.ts';
export { inclusionProofFromRange } from './compact-range-proof.ts';
export { proveSpanInCheckpoint } from './checkpoint-inclusion.ts';
export type { SpanProof, SpanProofCheck } from './checkpoint-inclusion.ts';
export {
  PROOF_BUNDLE_FORMAT,
  createProofBundle,
  proofBundleFromCheckpoint,
  verifyProofBundle,
} from './proof-bundle.ts';
export type { ProofBundle, ProofBundleVerification } from './proof-bundle.ts';
export { StreamVerifier } from './stream-verifier.ts';
export type { StreamVerifierOptions, StreamVerifierState } from './stream-verifier.ts';
export { consistencyProofFromCheckpoints, consistencyProofFromRange } from './compact-range-proof.ts';
export type { CheckpointLeaves } from './compact-range-proof.ts';
export { checkCosignatures, parseCosignerKey, verifyCosignatureLine } from './cosignature.ts';
export type { CosignatureCheck, CosignerKey, VerifiedCosignature } from './cosignature.ts';
export { addCheckpoint, addCheckpointUrl, formatAddCheckpointBody } from './tlog-witness-client.ts';
export type {
  AddCheckpointOptions,
  AddCheckpointOutcome,
  AddCheckpointRequest,
  WitnessEndpoint,
} from './tlog-witness-client.ts';
export {
  CAPTURE_MODES,
  CONFIG_ENV_OVERRIDES,
  CONFIG_FILE_VARIABLE,
  ConfigError,
  DEFAULT_CONFIG_FILE,
  DEFAULT_DATA_DIR,
  DEFAULT_KEYS_DIR,
  DEFAULT_RETENTION_DAYS,
  SCOPES,
  defaultConfig,
  findConfigFile,
  loadConfig,
  loadConfigSync,
  parseConfig,
  yearsInDays,
} from './config.ts';
export type {
  AuthConfig,
  BearerTokenSource,
  CaptureMode,
  ClientCertificateRule,
  ConfigErrorCode,
  ConfigIssue,
  DecisionTrailConfig,
  KeysConfig,
  ParseConfigOptions,
  ProcessorConfig,
  ReceiverTlsConfig,
  Scope,
  StorageConfig,
  WitnessConfig,
  WitnessesConfig,
} from './config.ts';
export { Backoff } from './backoff.ts';
export {
  STORE_QUERIES,
  STORE_QUERY_NAMES,
  isStoreQueryName,
  reviveStoreQueryResult,
  storeQueryScope,
} from './store-queries.ts';
export type { StoreQueryName, StoreQuerySpec } from './store-queries.ts';
