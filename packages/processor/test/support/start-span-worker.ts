// Starts and closes a span worker, then prints `started`: run in a child process with the flags under test.
import { defaultConfig } from '@decisiontrail/processor';
import { SpanWorker } from '@decisiontrail/processor/internal';

const stages = defaultConfig().processor.stages;
const worker = await SpanWorker.start(
  {
    stages,
    verifierKeys: [],
    verifierState: undefined,
    policy: { ...stages.policy, hmacKey: undefined },
    store: false,
  },
  () => {},
);
await worker.close();
console.log('started');
