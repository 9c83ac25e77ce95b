// Internals for this package's tests and for sibling packages; not a stable API.
export { addDecisionStartAttributes, modelConfigFor, recordField } from './audit-attributes.ts';
export { auditText, auditTextBytes } from './audit-text.ts';
export { resolveAuditSettings } from './config.ts';
export type { AuditSettings } from './config.ts';
export { decodeKeyMaterial, HmacHasher } from './privacy/hmac-hasher.ts';
export { readOnnxModelInfo } from './onnx/model-metadata.ts';
export type { OnnxModelInfo } from './onnx/model-metadata.ts';
export { uuidv7 } from './uuidv7.ts';
export { requestedActions } from './requested-actions.ts';
export { batchRowCount, classifyRow, tensorsRowToJson, tensorsToJson } from './onnx/tensor-rows.ts';
// The pieces of the openai path, timed one by one by test/bench/instrumentation.bench.ts --breakdown.
export { GenAiDecision } from './genai-decision.ts';
export { chatCompletionsSpec } from './openai/chat-completions.ts';
