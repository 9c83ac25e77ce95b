import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { cp, mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Writable } from 'node:stream';
import { openStore } from '@decisiontrail/clickhouse';
import { loadConfig, startProcessor, type ProcessorHandle } from '@decisiontrail/processor';
import { loadSigningKey } from '@decisiontrail/core';
import { ATTR_AUDIT_DECISION_OUTCOME } from '@decisiontrail/semconv';
import {
  CliError,
  type CommandContext,
  type DemoOptions,
  EXIT_CODES,
  type ReportDocument,
  runCli,
} from '@decisiontrail/cli';
import {
  formatCount,
  formatPercent,
  formatTime,
  ProgressBar,
  SIGNING_KEY_FILE,
} from '@decisiontrail/cli/internal';
import { generateApplicants } from './applicants.ts';
import { startAssistantServer } from './assistant-server.ts';
import { buildCreditModel, CREDIT_FEATURES, CREDIT_LABELS, CREDIT_MODEL_ID } from './credit-model.ts';
import { startDemoTelemetry } from './telemetry.ts';
import {
  ASSISTANT_MODEL,
  DecisionCapture,
  runWorkload,
  type DemoDecision,
  type WorkloadResult,
} from './workload.ts';

/** Marker file that proves a directory was made by the demo, so a rerun may delete it. */
const MARKER_FILE = '.decisiontrail-demo';
const CONFIG_FILE = 'decisiontrail.yaml';
const WITNESS_FILE = 'checkpoints.witness.jsonl';
const STEPS = 9;

/** What the workload sent, counted on the application side, to hold the store's numbers against. */
interface SentCounts {
  decisions: number;
  overridden: number;
  feedback: number;
  letters: number;
}

/** What the store holds, as verification reads it. */
interface StoredCounts {
  spans: number;
  checkpoints: number;
  streams: number;
}

/**
 * `decisiontrail demo`: a lending team's audit trail from first decision to tamper detection, in one process and
 * one data directory. Every number it prints comes back out of the store through the same commands a user runs.
 */
export async function runDemo(context: CommandContext, options: DemoOptions): Promise<void> {
  const started = performance.now();
  const { out, err } = context;
  const dir = path.resolve(context.settings.cwd, options.dir);
  const relative = path.relative(context.settings.cwd, dir) || '.';
  let stepStarted = performance.now();
  let stepNumber = 0;
  const step = (title: string): void => {
    stepNumber++;
    stepStarted = performance.now();
    out.line();
    out.line(out.style('bold', `[${stepNumber}/${STEPS}] ${title}`));
  };
  const done = (note = ''): void => {
    out.line(
      out.style(
        'dim',
        `      done in ${((performance.now() - stepStarted) / 1000).toFixed(1)} s${note ? ` — ${note}` : ''}`,
      ),
    );
  };

  out.line(out.style('bold', 'decisiontrail demo — an AI credit decision audit trail, end to end'));

  step(`preparing ${relative}: signing key, HMAC key, configuration, two ONNX model versions`);
  await prepareDirectory(dir);
  const keysDir = path.join(dir, 'keys');
  await mkdir(keysDir, { recursive: true });
  const configPath = path.join(dir, CONFIG_FILE);
  await writeFile(configPath, demoConfigYaml());
  // The demo's own file decides where everything goes; DECISIONTRAIL_* variables of the shell must not move it.
  const env = Object.fromEntries(
    Object.entries(context.settings.env).filter(([name]) => !name.startsWith('DECISIONTRAIL_')),
  );
  const config = await loadConfig(configPath, { env });
  const cli = (argv: string[], capture?: string[]): Promise<number> =>
    runCli([...argv, '--config', configPath, ...(out.color ? [] : ['--no-color'])], {
      stdout: capture === undefined ? out.stream : collect(capture),
      stderr: err.stream,
      env,
      cwd: context.settings.cwd,
      signal: context.signal,
    });

  // The key pair is made the way a user makes it: signing.key, and beside it signing.pub, which verify trusts.
  await expectOk(cli(['keys', 'generate'], []), 'keys generate');
  const key = await loadSigningKey(path.join(keysDir, SIGNING_KEY_FILE));
  const publicKeyPath = path.join(keysDir, SIGNING_KEY_FILE.replace(/\.key$/, '.pub'));
  const hmacKey = randomBytes(32);
  await writeFile(path.join(keysDir, 'hmac.key'), `${hmacKey.toString('hex')}\n`, { mode: 0o600 });
  const models = { '1.0.0': buildCreditModel('1.0.0'), '2.0.0': buildCreditModel('2.0.0') };
  done(`key id ${key.keyId}`);

  step('starting the processor in-process with the embedded ClickHouse engine');
  let processor: ProcessorHandle | undefined = await startProcessor(config, {
    log: (message) => err.line(`processor: ${message}`),
  });
  const assistant = await startAssistantServer(assistantReply);
  done(`OTLP/HTTP on ${processor.url}, local OpenAI-compatible server on ${assistant.baseUrl}`);

  try {
    // v2 decides the second half (runWorkload's v1Share), for a mix of applicants that turns riskier with it.
    const applicants = generateApplicants(options.applicants, undefined, Math.round(options.applicants / 2));
    step(
      `running the lending workload: ${formatCount(applicants.length)} applicants, credit model v1 → v2, underwriters, an LLM assistant`,
    );
    const capture = new DecisionCapture();
    const telemetry = startDemoTelemetry({
      processorUrl: processor.url,
      key,
      spoolDir: path.join(dir, 'spool'),
      witnessPath: path.join(keysDir, WITNESS_FILE),
      serviceName: 'loan-service',
      audit: {
        hmacKey,
        captureInput: 'hash',
        captureOutput: 'hash',
        onDecision: capture.onDecision,
        models: {
          [CREDIT_MODEL_ID]: {
            riskLevel: 'high',
            purpose: 'consumer credit underwriting',
            automation: 'human_in_the_loop',
            retentionClass: 'high_risk',
            labels: [...CREDIT_LABELS],
            // The non-identifying features the demo's decisiontrail.yaml allow-lists for input drift.
            driftFeatures: config.driftFeatures[CREDIT_MODEL_ID] ?? [],
          },
          [ASSISTANT_MODEL]: {
            riskLevel: 'limited',
            purpose: 'drafting adverse action notices',
            decisionType: 'generation',
          },
        },
      },
    });
    let workload: WorkloadResult;
    try {
      const ort = await import('onnxruntime-node');
      const openaiModule = await import('openai');
      telemetry.instrumentation.manuallyInstrument(ort, 'onnxruntime-node');
      telemetry.instrumentation.manuallyInstrument(openaiModule, 'openai');
      const openai = new openaiModule.OpenAI({
        baseURL: assistant.baseUrl,
        apiKey: 'demo-local',
        maxRetries: 0,
      });
      const bar = new ProgressBar(err, '      applicants', applicants.length);
      let reported = 0;
      workload = await runWorkload({
        applicants,
        ort,
        models,
        openai,
        decisions: capture,
        signal: context.signal,
        onProgress: (doneCount, total) => {
          bar.advance(1);
          // Without a terminal the bar stays silent: a line per quarter shows the run is moving.
          if (!err.interactive && doneCount >= ((reported + 1) * total) / 4) {
            reported++;
            out.line(`      ${formatCount(doneCount)}/${formatCount(total)} applicants`);
          }
        },
      });
      bar.finish();
      await telemetry.flush();
    } finally {
      await telemetry.shutdown();
    }
    const sent = summarizeWorkload(workload.decisions, workload.letters);
    done(
      `${formatCount(sent.decisions)} credit decisions, ${sent.overridden} overridden, ${sent.letters} letters drafted, ${formatCount(sent.feedback)} outcomes fed back; every span signed (stream ${telemetry.streamId})`,
    );

    step('waiting until the processor has stored everything it acknowledged');
    await waitForDrain(processor);
    // The workload's own span of time, to the second: the report's charts are bucketed to this period.
    const period = {
      from: new Date(Math.floor(workload.startedAt.getTime() / 1000) * 1000 - 1000),
      to: new Date(Math.ceil(workload.endedAt.getTime() / 1000) * 1000 + 1000),
    };
    const stored = await storedRecords(cli);
    const reportOf = async (modelId: string): Promise<ReportDocument> => {
      const lines: string[] = [];
      const range = ['--from', period.from.toISOString(), '--to', period.to.toISOString()];
      await expectOk(
        cli(['report', '--model', modelId, ...range, '--json'], lines),
        `report --model ${modelId}`,
      );
      return JSON.parse(lines.join('')) as ReportDocument;
    };
    const report = await reportOf(CREDIT_MODEL_ID);
    const letters = (await reportOf(ASSISTANT_MODEL)).totals.decisions;
    done();
    printCounts(context, stored, report, letters, sent, relative);

    const overridden = pickOverridden(workload.decisions);
    step(`timeline of one overridden decision (${overridden.reference.decisionId})`);
    await expectOk(cli(['timeline', overridden.reference.decisionId]), 'timeline');

    const v2 = workload.deployments.find((deployment) => deployment.version === '2.0.0')!;
    step('incident investigation: underwriters report that v2 approves applicants it should not');
    const incidentLines: string[] = [];
    await expectOk(
      cli(
        [
          'incident',
          'open',
          '--title',
          'credit-risk 2.0.0 approves applicants with late payments',
          '--severity',
          'high',
          '--category',
          'fundamental_rights',
          '--model',
          CREDIT_MODEL_ID,
          '--version',
          '2.0.0',
          '--from',
          v2.at.toISOString(),
          '--to',
          period.to.toISOString(),
          '--decision',
          overridden.reference.decisionId,
          '--notes',
          'raised by the underwriting team after a week of overrides',
          '--json',
        ],
        incidentLines,
      ),
      'incident open',
    );
    const incidentId = (JSON.parse(incidentLines.join('')) as { incidentId: string }).incidentId;
    await expectOk(cli(['incident', 'show', incidentId]), 'incident show');
    out.line();
    out.line(
      `      v2 went live with deployment ${v2.deploymentId}; the degradation signal above compares the decisions before and after it.`,
    );

    // The report comes after the incident, so it lists it (Art. 73) like a report written that day would.
    step('EU AI Act period report');
    printReportSummary(context, await reportOf(CREDIT_MODEL_ID));
    const reportPath = path.join(dir, 'report.html');
    await expectOk(
      cli([
        'report',
        '--model',
        CREDIT_MODEL_ID,
        '--from',
        period.from.toISOString(),
        '--to',
        period.to.toISOString(),
        '--format',
        'html',
        '--out',
        reportPath,
      ]),
      'report --format html',
    );

    step('verify: recompute every leaf from the stored rows, check the signed checkpoints and the witness');
    const verifyExitCode = await cli(['verify']);
    if (verifyExitCode !== EXIT_CODES.OK)
      throw new CliError(
        'INTEGRITY',
        `demo: verify failed on an untouched store (exit code ${verifyExitCode})`,
      );

    step('tamper detection on a copy of the store: one stored row altered, verify must fail and name it');
    await processor.close();
    processor = undefined;
    const tamperDir = path.join(dir, 'tampered');
    await cp(path.join(dir, 'data'), path.join(tamperDir, 'data'), { recursive: true });
    const forged = overridden.outcome === CREDIT_LABELS[0] ? CREDIT_LABELS[1] : CREDIT_LABELS[0];
    const spanId = overridden.reference.spanId;
    const decisionId = overridden.reference.decisionId;
    await alterStoredOutcome(path.join(tamperDir, 'data'), spanId, forged);
    out.line(
      `      in ${path.relative(context.settings.cwd, tamperDir)}: set ${ATTR_AUDIT_DECISION_OUTCOME} of decision ${decisionId} (span ${spanId}) to "${forged}" with ALTER TABLE otel_traces UPDATE`,
    );
    const tamperLines: string[] = [];
    const tamperedExit = await runCli(
      [
        'verify',
        '--data',
        path.join(tamperDir, 'data'),
        '--key',
        publicKeyPath,
        '--witness',
        path.join(keysDir, WITNESS_FILE),
        ...(out.color ? [] : ['--no-color']),
      ],
      {
        stdout: collect(tamperLines),
        stderr: err.stream,
        env,
        cwd: context.settings.cwd,
        signal: context.signal,
      },
    );
    const tamperOutput = tamperLines.join('');
    out.write(tamperOutput);
    if (tamperedExit !== EXIT_CODES.INTEGRITY) {
      throw new CliError(
        'INTEGRITY',
        `demo: verify did not detect the altered row (exit code ${tamperedExit})`,
      );
    }
    // The claim below is checked against what verify printed, never assumed.
    const namesDecision = tamperOutput.includes(`decision ${decisionId}`);
    out.line(
      out.style(
        namesDecision ? 'green' : 'red',
        namesDecision
          ? `      verify failed as it must (exit code ${tamperedExit}) and named decision ${decisionId}`
          : `      verify failed (exit code ${tamperedExit}) but did not name decision ${decisionId}`,
      ),
    );

    const seconds = (performance.now() - started) / 1000;
    out.line();
    out.line(out.style('bold', `Done in ${seconds.toFixed(1)} s.`));
    out.line(`  HTML report        ${path.relative(context.settings.cwd, reportPath)}`);
    out.line(`  store and keys     ${relative}/ (run the demo again to start over)`);
    out.line(
      `  explore yourself   npx decisiontrail timeline ${overridden.reference.decisionId} --config ${path.relative(context.settings.cwd, configPath)}`,
    );
    out.line(
      `                     npx decisiontrail verify --config ${path.relative(context.settings.cwd, configPath)}`,
    );
  } finally {
    await assistant.close();
    await processor?.close();
  }
}

/** Recreates the demo directory; refuses to delete anything the demo did not make. */
async function prepareDirectory(dir: string): Promise<void> {
  if (existsSync(dir)) {
    const entries = await readdir(dir);
    if (entries.length > 0 && !entries.includes(MARKER_FILE)) {
      throw new CliError(
        'FILE',
        `demo: ${dir} exists and was not made by the demo; pass --dir with a new directory`,
      );
    }
    await rm(dir, { recursive: true, force: true });
  }
  await mkdir(dir, { recursive: true });
  await writeFile(
    path.join(dir, MARKER_FILE),
    'made by `decisiontrail demo`; deleted and recreated on every run\n',
  );
}

function demoConfigYaml(): string {
  return [
    '# Written by `decisiontrail demo`. Point any decisiontrail command at it with --config.',
    'storage:',
    '  dataDir: data',
    'keys:',
    '  dir: keys',
    `  witness: keys/${WITNESS_FILE}`,
    'processor:',
    '  receiver:',
    '    port: 0 # any free port',
    '  stages:',
    '    route:',
    '      # The application spans around each decision are signed too: keep them, so the stream stays whole and',
    '      # the trace view shows the request beside its decisions.',
    '      other: store',
    '# Input drift: the numeric, non-identifying features each credit decision records (audit.input.features).',
    'driftFeatures:',
    `  ${CREDIT_MODEL_ID}: [${CREDIT_FEATURES.join(', ')}]`,
    '',
  ].join('\n');
}

/** The local assistant's letter: plain language, the main factors, the applicant's rights. */
function assistantReply(messages: { role: string; content: string }[]): string {
  const request = messages.at(-1)?.content ?? '';
  const factors = /Main factors: (.*)$/.exec(request)?.[1] ?? 'the information in your application';
  return (
    'Dear applicant, thank you for your application. We are unable to offer you credit at this time. ' +
    `The main factors were: ${factors}. You may ask for a human review of this decision and for a copy of the ` +
    'information we used.'
  );
}

function summarizeWorkload(decisions: readonly DemoDecision[], letters: number): SentCounts {
  return {
    decisions: decisions.length,
    overridden: decisions.filter((d) => d.oversight === 'override').length,
    feedback: decisions.filter((d) => d.feedbackCorrect !== undefined).length,
    letters,
  };
}

/** An override under v2 with a drafted letter: the most telling timeline. */
function pickOverridden(decisions: readonly DemoDecision[]): DemoDecision {
  const candidates = decisions.filter((d) => d.oversight === 'override');
  const best =
    candidates.find(
      (d) => d.modelVersion === '2.0.0' && d.letter !== undefined && d.feedbackCorrect !== undefined,
    ) ??
    candidates.find((d) => d.modelVersion === '2.0.0') ??
    candidates[0];
  if (best === undefined) throw new Error('demo: the workload produced no overridden decision');
  return best;
}

/** Waits until the processor's write-ahead log is empty: everything acknowledged is in ClickHouse. */
async function waitForDrain(processor: ProcessorHandle, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const match = /^decisiontrail_processor_queue_entries (\d+)/m.exec(processor.metrics.render());
    if (match !== null && match[1] === '0') return;
    if (Date.now() > deadline)
      throw new Error('demo: the processor did not store the workload within a minute');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Counts of what is stored, read back through `verify --json` (the same rows verification reads). */
async function storedRecords(
  cli: (argv: string[], capture?: string[]) => Promise<number>,
): Promise<StoredCounts> {
  const lines: string[] = [];
  await cli(['verify', '--json'], lines);
  const report = JSON.parse(lines.join('')) as {
    spansRead: number;
    streams: { spanCount: number; checkpointCount: number }[];
  };
  return {
    spans: report.spansRead,
    checkpoints: report.streams.reduce((sum, stream) => sum + stream.checkpointCount, 0),
    streams: report.streams.length,
  };
}

function printCounts(
  context: CommandContext,
  stored: StoredCounts,
  report: ReportDocument,
  letters: number,
  sent: SentCounts,
  relative: string,
): void {
  const out = context.out;
  const n = (value: number): string => formatCount(value).padStart(7);
  out.line();
  out.line(out.style('bold', `Stored in the embedded ClickHouse at ${relative}/data`));
  out.line(
    `  spans              ${n(stored.spans)}  in ${stored.streams} signed stream(s), sealed by ${stored.checkpoints} checkpoints`,
  );
  out.line(
    `  credit decisions   ${n(report.totals.decisions)}  ${report.model.versions.map((v) => `v${v.version}: ${formatCount(v.decisions)}`).join(' · ')}`,
  );
  out.line(
    `  human reviews      ${n(report.totals.reviewed)}  of which overrides ${formatCount(report.totals.overridden)}`,
  );
  out.line(`  outcomes fed back  ${n(report.totals.withFeedback)}  (ground truth from the loan ledger)`);
  out.line(
    `  letters by the LLM ${n(letters)}  (${ASSISTANT_MODEL} through the openai client, half of them streamed)`,
  );
  if (
    report.totals.decisions !== sent.decisions ||
    report.totals.overridden !== sent.overridden ||
    report.totals.withFeedback !== sent.feedback ||
    letters !== sent.letters
  ) {
    out.line(
      out.style(
        'red',
        `  the store disagrees with what was sent: ${sent.decisions} decisions, ${sent.overridden} overrides, ${sent.feedback} feedback, ${sent.letters} letters`,
      ),
    );
  }
}

function printReportSummary(context: CommandContext, report: ReportDocument): void {
  const out = context.out;
  out.line(
    `  model ${report.model.id}, ${formatTime(report.period.from)} to ${formatTime(report.period.to)}`,
  );
  out.line(
    `  ${formatCount(report.totals.decisions)} decisions · review rate ${formatPercent(report.rates.reviewRate)} · override rate ${formatPercent(report.rates.overrideRate)} · accuracy ${formatPercent(report.rates.accuracy)} on ${formatCount(report.totals.withFeedback)} outcomes`,
  );
  for (const version of report.accuracyByVersion) {
    out.line(
      `    v${version.version.padEnd(6)} ${formatCount(version.decisions).padStart(6)} decisions   accuracy ${formatPercent(version.accuracy).padStart(6)}   override rate ${formatPercent(version.overrideRate).padStart(6)}`,
    );
  }
  const fairness = report.fairness;
  if (fairness.outcome !== null) {
    out.line(
      `  fairness (${fairness.outcome} rate): ${fairness.groups.map((g) => `${g.group} ${formatPercent(g.outcomeRate)}`).join(' · ')}; ratio ${fairness.disparityRatio === null ? '—' : fairness.disparityRatio.toFixed(2)}${fairness.disparityRatio !== null && fairness.disparityRatio < 0.8 ? out.style('yellow', ' (below the four-fifths rule)') : ''}`,
    );
  }
  out.line(
    `  incidents: ${formatCount(report.incidents.length)} (${formatCount(report.incidents.filter((i) => i.status !== 'closed').length)} open)`,
  );
  // Only the retention classes that hold records in this period.
  const retained = report.retention.filter((r) => !r.period.endsWith('; 0 decisions'));
  out.line(`  retention: ${retained.map((r) => `${r.recordClass} ${r.period}`).join(' · ')}`);
}

/** Changes one stored attribute the way someone with write access to ClickHouse could. */
async function alterStoredOutcome(dataDir: string, spanId: string, outcome: string): Promise<void> {
  await rm(path.join(dataDir, 'serve.json'), { force: true });
  const store = await openStore({ dataDir, migrate: false });
  try {
    await store.client.command({
      query: `ALTER TABLE otel_traces UPDATE SpanAttributes = mapUpdate(SpanAttributes, map({key:String}, {value:String})) WHERE SpanId = {span:String}`,
      query_params: { key: ATTR_AUDIT_DECISION_OUTCOME, value: outcome, span: spanId },
      clickhouse_settings: { mutations_sync: '2' },
    });
  } finally {
    await store.close();
  }
}

function collect(lines: string[]): Writable {
  return new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      lines.push(chunk.toString());
      callback();
    },
  });
}

async function expectOk(run: Promise<number>, command: string): Promise<void> {
  const code = await run;
  if (code !== EXIT_CODES.OK)
    throw new Error(`demo: "decisiontrail ${command}" failed with exit code ${code}`);
}
