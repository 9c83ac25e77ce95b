// `decisiontrail demo`, kept out of @decisiontrail/cli so that the CLI installs without onnxruntime-node and openai.
// The CLI's `demo` command loads this package when it runs (see DemoModule in @decisiontrail/cli).
export { runDemo } from './run-demo.ts';
export {
  buildCreditModel,
  CREDIT_FEATURES,
  CREDIT_LABELS,
  CREDIT_MODEL_ID,
  CREDIT_MODEL_VERSIONS,
  creditApprovalProbability,
  creditLogit,
} from './credit-model.ts';
export type { CreditModelVersion } from './credit-model.ts';
