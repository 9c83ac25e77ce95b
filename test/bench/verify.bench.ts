// `decisiontrail verify` over a store built as production would have it.
//
//   npm run bench:verify -- [--decisions 1000000] [--streams 8] [--chunk 50000] [--keep] [--dir DIR]
//       [--timeout 3600] [--build-only] [--repo DIR] [--runs all,day]
//
// 1. Build (skipped when --dir names a store this bench built and kept): a project directory laid out as
//    the CLI finds it with no configuration — the embedded store in .decisiontrail/data, the public key in
//    .decisiontrail/keys/signing.pub (as `keys generate` writes it), the witness at the signing exporter's
//    default path (.decisiontrail/keys/checkpoints.witness.jsonl, written by FileCheckpointWitness). The spans
//    are the ClickHouse bench's synthetic decisions (+5 % oversight, +20 % feedback) signed for real: each
//    stream (app instance) appends every span's leaf to its StreamSigner and emits a signed
//    `audit.checkpoint` span every 512 spans, and a final one for its tail. They go through ClickHouseSink,
//    so the materialized views and rollups fill as in production.
// 2. Measure: `decisiontrail verify --json` as a child process in the project directory (the launcher in
//    packages/cli/bin re-spawns Node with the source condition), over the whole store and then over one
//    day (--from/--to; --runs picks and orders them): wall time, spans read, spans/s, peak RSS of the
//    process tree (GNU time's maximum resident set size, which covers the waited-for CLI process under the
//    launcher; VmHWM polled from /proc as well), exit code, verdict and finding counts. A run is killed
//    after --timeout seconds, or 15 s after it printed a fatal V8 error without exiting (a heap OOM can
//    leave it hanging).
//
// Without --dir the project is a fresh temp directory, removed at the end unless --keep. With --dir it is
// never removed: the first run builds the store there, later runs only measure verify again (--build-only
// stops after the build). --repo runs the CLI of another checkout (e.g. an unpacked `git archive` of an
// earlier commit with node_modules linked) against the same store, for before/after figures.
import { execFileSync, spawn } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { openStore } from '@decisiontrail/clickhouse';
import {
  DEFAULT_WITNESS_PATH,
  FileCheckpointWitness,
  exportPublicKey,
  generateSigningKeyFile,
} from '@decisiontrail/core';
import { SyntheticAuditSpans } from './clickhouse-synthetic.ts';
import { ThreadCpuSampler } from './thread-cpu.ts';

const { values: args } = parseArgs({
  options: {
    decisions: { type: 'string', default: '1000000' },
    streams: { type: 'string', default: '8' },
    chunk: { type: 'string', default: '50000' },
    keep: { type: 'boolean', default: false },
    dir: { type: 'string' },
    timeout: { type: 'string', default: '3600' },
    'build-only': { type: 'boolean', default: false },
    repo: { type: 'string' },
    runs: { type: 'string', default: 'all,day' },
  },
});
const CHUNK = Number(args.chunk);
const TIMEOUT_MS = Number(args.timeout) * 1000;
/** The checkout whose CLI is measured: this one, or e.g. an unpacked `git archive` of an earlier commit. */
const REPO = resolve(args.repo ?? join(import.meta.dirname, '../..'));
const CLI = join(REPO, 'packages/cli/bin/decisiontrail.js');
/** Decisions arrive every 777 ms, as in the ClickHouse bench (10 million over 90 days). */
const GAP_MS = 777;
const START_MS = Date.UTC(2026, 0, 1);

/** What the build left in the project directory, so a later run can measure the same store again. */
interface StoreManifest {
  decisions: number;
  streams: number;
  spans: number;
  oversight: number;
  feedback: number;
  checkpoints: number;
  startMs: number;
  gapMs: number;
  keyId: string;
  builtAt: string;
  ingestSeconds: number;
  ingestSpansPerSecond: number;
  bytesOnDisk: number;
}

const load = (): string => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
const fmt = (n: number, digits = 1): string => n.toFixed(digits);
const mib = (kib: number): string => `${fmt(kib / 1024, 0)} MiB`;

async function build(project: string, decisions: number, streams: number): Promise<StoreManifest> {
  const keysDir = join(project, '.decisiontrail', 'keys');
  const dataDir = join(project, '.decisiontrail', 'data');
  mkdirSync(keysDir, { recursive: true });
  const key = await generateSigningKeyFile(join(keysDir, 'signing.key'));
  writeFileSync(join(keysDir, 'signing.pub'), `${exportPublicKey(key).vkey}\n`, { mode: 0o644 });
  // The signing exporter's default witness path, which is also verify's default keys.witness.
  const witness = new FileCheckpointWitness(join(project, DEFAULT_WITNESS_PATH));
  const generator = new SyntheticAuditSpans(
    { startMs: START_MS, gapMs: GAP_MS, signing: { key, streams, witness } },
    Number.MAX_SAFE_INTEGER,
  );
  const store = await openStore({ dataDir });
  const sink = store.createSink({ maxBatchSize: CHUNK * 2, maxBufferedRows: CHUNK * 4, flushIntervalMs: 5 });
  console.log(`building: ${decisions} decisions in ${streams} signed streams, load ${load()}`);
  let spans = 0;
  let generationMs = 0;
  // Three writes in flight, as in the ClickHouse bench: the next chunks are made while the engine writes.
  const inFlight = new Set<Promise<void>>();
  const wallStart = performance.now();
  for (let done = false; !done;) {
    const generationStart = performance.now();
    const batch = generator.next(Math.min(CHUNK, decisions - generator.stats.decisions));
    done = generator.stats.decisions >= decisions;
    if (done) batch.push(...generator.finish());
    generationMs += performance.now() - generationStart;
    const writing: Promise<void> = sink.write(batch).finally(() => inFlight.delete(writing));
    inFlight.add(writing);
    spans += batch.length;
    if (inFlight.size >= 3) await Promise.race(inFlight);
    if (generator.stats.decisions % (CHUNK * 20) === 0 || done) {
      const seconds = (performance.now() - wallStart) / 1000;
      console.log(
        `  ${generator.stats.decisions} decisions, ${spans} spans, ${Math.round(spans / seconds)} spans/s (signing included), load ${load()}`,
      );
    }
  }
  await Promise.all(inFlight);
  await sink.flush();
  await generator.witnessed();
  const wallMs = performance.now() - wallStart;
  const parts = await store.client.query({
    query: "SELECT sum(bytes_on_disk) AS disk FROM system.parts WHERE database = 'default' AND active",
    format: 'JSONEachRow',
  });
  const [{ disk } = { disk: '0' }] = await parts.json<{ disk: string }>();
  await store.close();
  const { stats } = generator;
  console.log(
    `built in ${fmt(wallMs / 1000)} s (${fmt(generationMs / 1000)} s generating and signing): ${spans} spans, ${stats.checkpoints} checkpoints, ${fmt(Number(disk) / 2 ** 30, 2)} GiB on disk`,
  );
  return {
    decisions: stats.decisions,
    streams,
    spans,
    oversight: stats.oversight,
    feedback: stats.feedback,
    checkpoints: stats.checkpoints,
    startMs: START_MS,
    gapMs: GAP_MS,
    keyId: key.keyId,
    builtAt: new Date().toISOString(),
    ingestSeconds: wallMs / 1000,
    ingestSpansPerSecond: (spans / wallMs) * 1000,
    bytesOnDisk: Number(disk),
  };
}

/** One `verify` run as a user starts it, and what it cost. */
interface VerifyRun {
  label: string;
  args: string[];
  exitCode: number | null;
  wallMs: number;
  /** Peak RSS of the launcher and the CLI process under it (KiB). */
  peakRssKiB: number | undefined;
  cpuSeconds: number | undefined;
  loadBefore: string;
  loadAfter: string;
  report: Record<string, unknown> | undefined;
  stderrTail: string;
  /** Why the bench killed it, if it did. */
  killed: string | undefined;
  /** The CLI process's CPU seconds per thread name (main, dt-decoder, the engine's pools, V8's `node` helpers). */
  threads: { name: string; seconds: number; threads: number }[];
}

function descendants(pid: number): number[] {
  const out = [pid];
  try {
    for (const child of readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/)) {
      if (child !== '') out.push(...descendants(Number(child)));
    }
  } catch {
    // The process has exited.
  }
  return out;
}

function vmHwmKiB(pid: number): number {
  try {
    const match = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : 0;
  } catch {
    return 0;
  }
}

async function runVerify(project: string, label: string, extra: string[]): Promise<VerifyRun> {
  const outFile = join(project, `verify-bench-${label}.json`);
  const errFile = join(project, `verify-bench-${label}.stderr`);
  const timeFile = join(project, `verify-bench-${label}.time`);
  const command = [process.execPath, '--conditions=@decisiontrail/source', CLI, 'verify', '--json', ...extra];
  const gnuTime = existsSync('/usr/bin/time');
  const out = openSync(outFile, 'w');
  const err = openSync(errFile, 'w');
  const loadBefore = load();
  const start = performance.now();
  const child = spawn(
    gnuTime ? '/usr/bin/time' : (command[0] as string),
    gnuTime ? ['-f', '%M %U %S', '-o', timeFile, ...command] : command.slice(1),
    { cwd: project, stdio: ['ignore', out, err] },
  );
  let polledKiB = 0;
  const threads = new ThreadCpuSampler();
  let killed: string | undefined;
  let fatalAt: number | undefined;
  const kill = (reason: string): void => {
    killed ??= reason;
    // Only what runs under the launcher: it exits with the CLI's signal and is reaped by GNU time, so the
    // CLI's usage still reaches time's report.
    const pids = child.pid === undefined ? [] : descendants(child.pid).slice(gnuTime ? 2 : 1);
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Exited meanwhile.
      }
    }
  };
  const poll = setInterval(() => {
    if (child.pid === undefined) return;
    const tree = descendants(child.pid);
    for (const pid of tree) polledKiB = Math.max(polledKiB, vmHwmKiB(pid));
    // The CLI is the innermost process (GNU time, then the launcher, then the CLI).
    threads.sample(tree.at(-1) as number);
    const elapsed = performance.now() - start;
    if (elapsed > TIMEOUT_MS) kill(`timed out after ${TIMEOUT_MS / 1000} s`);
    fatalAt ??= readFileSync(errFile, 'utf8').includes('FATAL ERROR') ? elapsed : undefined;
    if (fatalAt !== undefined && elapsed - fatalAt > 15_000) {
      kill(`still running 15 s after a fatal error at ${fmt(fatalAt / 1000)} s`);
    }
  }, 250);
  const exitCode = await new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
  const wallMs = performance.now() - start;
  clearInterval(poll);
  closeSync(out);
  closeSync(err);
  let peakRssKiB: number | undefined = polledKiB > 0 ? polledKiB : undefined;
  let cpuSeconds: number | undefined;
  if (gnuTime && existsSync(timeFile)) {
    // The last line: a command killed by a signal makes GNU time print a note above it.
    const [rss, user, sys] = readFileSync(timeFile, 'utf8').trim().split('\n').at(-1)!.split(' ').map(Number);
    if (rss !== undefined && Number.isFinite(rss)) peakRssKiB = Math.max(rss, polledKiB);
    if (user !== undefined && sys !== undefined) cpuSeconds = user + sys;
  }
  let report: Record<string, unknown> | undefined;
  if (statSync(outFile).size > 0) {
    try {
      report = JSON.parse(readFileSync(outFile, 'utf8')) as Record<string, unknown>;
    } catch {
      report = undefined;
    }
  }
  const stderr = readFileSync(errFile, 'utf8');
  return {
    label,
    args: extra,
    exitCode,
    wallMs,
    peakRssKiB,
    cpuSeconds,
    loadBefore,
    loadAfter: load(),
    report,
    stderrTail: stderr.slice(-2000),
    killed,
    threads: threads.byName(),
  };
}

/** Every finding in the report by code, wherever the report lists them (per stream, witness, tables). */
function findingCounts(report: unknown): Map<string, number> {
  const counts = new Map<string, number>();
  const walk = (value: unknown, inFindings: boolean): void => {
    if (Array.isArray(value)) {
      for (const item of value) walk(item, inFindings);
      return;
    }
    if (value === null || typeof value !== 'object') return;
    const record = value as Record<string, unknown>;
    if (inFindings && typeof record['code'] === 'string') {
      counts.set(record['code'], (counts.get(record['code']) ?? 0) + 1);
      return;
    }
    for (const [key, child] of Object.entries(record)) walk(child, /findings$/i.test(key));
  };
  walk(report, false);
  return counts;
}

function describe(run: VerifyRun, storedSpans: number): string[] {
  const report = run.report;
  const spansRead = typeof report?.['spansRead'] === 'number' ? report['spansRead'] : undefined;
  const counts = findingCounts(report);
  const findings =
    counts.size === 0 ? 'none' : [...counts].map(([code, count]) => `${code} ${count}`).join(', ');
  const streams = Array.isArray(report?.['streams']) ? report['streams'].length : undefined;
  const rate = ((spansRead ?? storedSpans) / run.wallMs) * 1000;
  // The verdict field where the report has one, else its ok flag.
  const verdict =
    report === undefined
      ? 'no JSON report'
      : typeof report['verdict'] === 'string'
        ? `verdict ${report['verdict']}`
        : report['ok'] === true
          ? 'ok (intact)'
          : 'NOT ok';
  const verified =
    typeof report?.['spansVerified'] === 'number' ? `, ${report['spansVerified']} verified` : '';
  return [
    `| verify ${run.args.join(' ') || '(whole store)'} | exit ${run.exitCode}, ${verdict}${run.killed === undefined ? '' : `; killed: ${run.killed}`} |`,
    `| — wall | ${fmt(run.wallMs / 1000, 2)} s${run.cpuSeconds === undefined ? '' : ` (CPU ${fmt(run.cpuSeconds)} s)`} |`,
    `| — spans read | ${spansRead ?? 'not reported'}${streams === undefined ? '' : ` in ${streams} stream(s)`}${verified} |`,
    `| — spans/s | ${Math.round(rate)}${spansRead === undefined ? ' (over the stored spans)' : ''} |`,
    `| — peak RSS | ${run.peakRssKiB === undefined ? 'unknown' : mib(run.peakRssKiB)} |`,
    `| — CPU by thread (sampled every 250 ms) | ${run.threads
      .filter((t) => t.seconds >= 0.05)
      .map((t) => `${t.name}${t.threads > 1 ? ` ×${t.threads}` : ''} ${fmt(t.seconds)} s`)
      .join(', ')} |`,
    `| — findings | ${findings} |`,
    `| — load avg before → after | ${run.loadBefore} → ${run.loadAfter} |`,
  ];
}

const reuse = args.dir !== undefined && existsSync(join(args.dir, 'verify-bench.json'));
const project =
  args.dir === undefined ? mkdtempSync(join(tmpdir(), 'decisiontrail-verify-bench-')) : resolve(args.dir);
mkdirSync(project, { recursive: true });
const manifestPath = join(project, 'verify-bench.json');
console.log(
  `decisiontrail verify benchmark: project ${project}, ${new Date().toISOString()}, load ${load()}`,
);
let manifest: StoreManifest;
if (reuse) {
  manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as StoreManifest;
  console.log(
    `reusing the store built ${manifest.builtAt}: ${manifest.decisions} decisions, ${manifest.spans} spans in ${manifest.streams} streams (--decisions and --streams ignored)`,
  );
  // verify reads a store only at this version's schema (it refuses one that lacks a migration): bring a kept store
  // up to date first, as a user would with `decisiontrail migrate`. Not part of the measurement.
  execFileSync(process.execPath, ['--conditions=@decisiontrail/source', CLI, 'migrate'], {
    cwd: project,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
} else {
  manifest = await build(project, Number(args.decisions), Number(args.streams));
  writeFileSync(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
}

if (args['build-only']) process.exit(0);

// Verify runs from the checkout's source, committed or not: say which code that was.
function describeCode(): string {
  const git = (...gitArgs: string[]): string =>
    execFileSync('git', ['-C', REPO, ...gitArgs], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  try {
    const dirty = git('status', '--porcelain', '--', 'packages').split('\n').filter(Boolean).length;
    const head = git('log', '-1', '--format=%h %s').slice(0, 100);
    return `${head}${dirty > 0 ? ` + ${dirty} uncommitted file(s) under packages/` : ''}`;
  } catch {
    return `${REPO} (not a git checkout)`;
  }
}
console.log(`verify code: ${describeCode()}`);

// One whole day in the middle of the data.
const middle = manifest.startMs + (manifest.decisions * manifest.gapMs) / 2;
const dayStart = new Date(middle - (middle % 86_400_000));
const dayEnd = new Date(dayStart.getTime() + 86_400_000);
const RUNS: Record<string, string[]> = {
  all: [],
  day: ['--from', dayStart.toISOString(), '--to', dayEnd.toISOString()],
};
const runs: VerifyRun[] = [];
for (const label of args.runs.split(',')) {
  const extra = RUNS[label];
  if (extra === undefined) throw new Error(`--runs: unknown run ${JSON.stringify(label)} (all, day)`);
  runs.push(await runVerify(project, label, extra));
}

console.log(
  `\n| ${manifest.decisions} decisions, ${manifest.spans} spans (${manifest.checkpoints} checkpoints) in ${manifest.streams} streams, ${fmt(manifest.bytesOnDisk / 2 ** 30, 2)} GiB | |\n|---|---|`,
);
console.log(
  `| build (generate, sign, ClickHouseSink) | ${fmt(manifest.ingestSeconds)} s, ${Math.round(manifest.ingestSpansPerSecond)} spans/s |`,
);
for (const run of runs) for (const line of describe(run, manifest.spans)) console.log(line);
for (const run of runs) {
  if (run.report === undefined || (run.exitCode !== 0 && run.exitCode !== 1)) {
    console.log(`\nverify ${run.label} (exit ${run.exitCode}) stderr, last lines:\n${run.stderrTail}`);
  }
}

if (args.dir === undefined && !args.keep) rmSync(project, { recursive: true, force: true });
else console.log(`\nstore kept in ${project} (measure again: npm run bench:verify -- --dir ${project})`);
