// Writes test-vectors/spans.json from scripts/span-test-vectors.ts. Run after a deliberate change
// of the canonical form: npm exec -- node --conditions=@decisiontrail/source packages/core/scripts/generate-test-vectors.ts
import { writeFileSync } from 'node:fs';
import { canonicalSpanBytes, leafHash } from '@decisiontrail/core';
import { SPAN_TEST_VECTOR_RECORDS } from './span-test-vectors.ts';

const vectors = SPAN_TEST_VECTOR_RECORDS.map(({ name, description, record }) => ({
  name,
  description,
  record,
  canonicalJson: Buffer.from(canonicalSpanBytes(record)).toString('utf8'),
  leafHash: Buffer.from(leafHash(record)).toString('hex'),
}));
const target = new URL('../test-vectors/spans.json', import.meta.url);
writeFileSync(target, `${JSON.stringify({ algorithm: 'rfc6962-sha256-jcs', vectors }, null, 2)}\n`);
console.log(`wrote ${vectors.length} vectors to ${target.pathname}`);
