// The thread of a VerificationDecoders pool (verification-decoder.ts): decodes the RowBinary results of the
// verification statement it is sent, exactly as the store's thread would (`decodeVerificationRows`), and answers
// with them packed (`packVerificationRows`): a few strings and typed arrays, the arrays' buffers transferred.
import { parentPort } from 'node:worker_threads';
import { nameThread } from '@decisiontrail/core/internal';
import { StoreError } from './errors.ts';
import { packVerificationRows } from './verification-records.ts';
import type { DecoderReply, DecoderRequest } from './verification-decoder.ts';

const port = parentPort;
if (port === null) throw new Error('verification-decoder-thread runs as a worker thread');
nameThread('dt-decoder');
port.on('message', (request: DecoderRequest) => {
  let reply: DecoderReply;
  let transfer: ArrayBuffer[] = [];
  try {
    const packed = packVerificationRows(Buffer.from(request.bytes));
    reply = { id: request.id, packed };
    transfer = [packed.kinds.buffer, packed.seqs.buffer, packed.spanIdEnds.buffer];
  } catch (error) {
    reply = {
      id: request.id,
      error: {
        code: error instanceof StoreError ? error.code : 'QUERY_FAILED',
        message: (error as Error).message,
      },
    };
  }
  port.postMessage(reply, transfer);
});
