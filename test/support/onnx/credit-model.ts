// The credit model of the tests is the demo's (packages/demo/src/credit-model.ts, one copy), reached by path so
// that child-process fixtures load it without the source condition; this module adds writing it to a file.
//
//   npm exec -- node test/support/onnx/credit-model.ts <out.onnx> [--version 1.0.0|2.0.0]
import { writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import {
  buildCreditModel,
  CREDIT_MODEL_VERSIONS,
  type CreditModelVersion,
} from '../../../packages/demo/src/credit-model.ts';

export {
  buildCreditModel,
  CREDIT_FEATURES,
  CREDIT_LABELS,
  CREDIT_MODEL_ID,
  CREDIT_MODEL_VERSIONS,
  creditApprovalProbability,
  creditLogit,
} from '../../../packages/demo/src/credit-model.ts';
export type { CreditModelVersion } from '../../../packages/demo/src/credit-model.ts';

/** Writes the model to `path`; returns the path. */
export function writeCreditModel(path: string, version: CreditModelVersion = '1.0.0'): string {
  writeFileSync(path, buildCreditModel(version));
  return path;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [out, flag, value] = process.argv.slice(2);
  const version = CREDIT_MODEL_VERSIONS.find((known) => known === (flag === '--version' ? value : '1.0.0'));
  if (out === undefined || version === undefined) {
    console.error(
      `usage: node test/support/onnx/credit-model.ts <out.onnx> [--version ${CREDIT_MODEL_VERSIONS.join('|')}]`,
    );
    process.exit(2);
  }
  console.log(writeCreditModel(out, version));
}
