// The thread of a VerificationDecoders pool (verification-decoder.ts): decodes the RowBinary results of the
// verification statement it is sent, exactly as the store's thread would (`decodeVerificationRows`).
import { parentPort } from 'node:worker_threads';
import { nameThread } from '@decisiontrail/core/internal';
import { StoreError } from './errors.ts';
import { decodeVerificationRows } from './verification-records.ts';
import type { DecoderReply, DecoderRequest } from './verification-decoder.ts';

const port = parentPort;
if (port === null) throw new Error('verification-decoder-thread runs as a worker thread');
nameThread('dt-decoder');
port.on('message', (request: DecoderRequest) => {
  let reply: DecoderReply;
  try {
    reply = { id: request.id, records: decodeVerificationRows(Buffer.from(request.bytes)) };
  } catch (error) {
    reply = {
      id: request.id,
      error: {
        code: error instanceof StoreError ? error.code : 'QUERY_FAILED',
        message: (error as Error).message,
      },
    };
  }
  port.postMessage(reply);
});
