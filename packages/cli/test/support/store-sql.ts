// Child process of the tamper tests: opens the embedded store in argv[2] (the engine binds one data directory to a
// process, and the test's own process already holds another) and runs the statements given as a JSON array on
// stdin, as an insider with write access to the store would. SELECTs return their rows; every other statement
// runs with mutations_sync so it has taken effect before the next one. Prints the results as JSON.
import { openStore } from '@decisiontrail/clickhouse';

const dataDir = process.argv[2];
if (dataDir === undefined) throw new Error('usage: store-sql.ts DATA_DIR < statements.json');
let input = '';
for await (const chunk of process.stdin) input += String(chunk);
const statements = JSON.parse(input) as string[];
const store = await openStore({ dataDir, migrate: false });
const results: unknown[] = [];
try {
  for (const query of statements) {
    if (/^\s*SELECT/i.test(query)) {
      const result = await store.client.query({ query, format: 'JSONEachRow' });
      results.push(await result.json());
    } else {
      await store.client.command({ query, clickhouse_settings: { mutations_sync: '2' } });
      results.push(null);
    }
  }
} finally {
  await store.close();
}
process.stdout.write(JSON.stringify(results));
