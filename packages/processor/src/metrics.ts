/**
 * The processor's own metrics in the Prometheus text exposition format (version 0.0.4). A handful of
 * counters, gauges and histograms do not justify a metrics SDK and its exporter in the hot path.
 */
type Labels = Readonly<Record<string, string>>;

interface Series {
  name: string;
  help: string;
  type: 'counter' | 'gauge' | 'histogram';
  render(): string[];
}

function labelText(labels: Labels, extra?: [string, string]): string {
  const pairs = Object.entries(labels);
  if (extra !== undefined) pairs.push(extra);
  if (pairs.length === 0) return '';
  const escape = (v: string): string => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
  return `{${pairs.map(([k, v]) => `${k}="${escape(v)}"`).join(',')}}`;
}

/** A monotonically increasing count, optionally split by one label set per call. */
export class Counter implements Series {
  readonly type = 'counter';
  private readonly values = new Map<string, { labels: Labels; value: number }>();
  readonly name: string;
  readonly help: string;

  constructor(name: string, help: string) {
    this.name = name;
    this.help = help;
  }

  inc(by = 1, labels: Labels = {}): void {
    const key = labelText(labels);
    const entry = this.values.get(key);
    if (entry === undefined) this.values.set(key, { labels, value: by });
    else entry.value += by;
  }

  /** The increments since the last call, per label set, and starts again from zero. */
  take(): { labels: Labels; value: number }[] {
    const taken = [...this.values.values()];
    this.values.clear();
    return taken;
  }

  /** Current value for a label set (tests and the benchmark read it). */
  get(labels: Labels = {}): number {
    return this.values.get(labelText(labels))?.value ?? 0;
  }

  render(): string[] {
    if (this.values.size === 0) return [`${this.name} 0`];
    return [...this.values.values()].map(({ labels, value }) => `${this.name}${labelText(labels)} ${value}`);
  }
}

/** A value read when scraped. */
export class Gauge implements Series {
  readonly type = 'gauge';
  readonly name: string;
  readonly help: string;
  private readonly read: () => number;

  constructor(name: string, help: string, read: () => number) {
    this.name = name;
    this.help = help;
    this.read = read;
  }

  render(): string[] {
    return [`${this.name} ${this.read()}`];
  }
}

/** A latency histogram in seconds with fixed buckets. */
export class Histogram implements Series {
  readonly type = 'histogram';
  readonly name: string;
  readonly help: string;
  private readonly buckets: readonly number[];
  private readonly counts: number[];
  private sum = 0;
  private count = 0;

  constructor(name: string, help: string, buckets: readonly number[]) {
    this.name = name;
    this.help = help;
    this.buckets = buckets;
    this.counts = buckets.map(() => 0);
  }

  observe(seconds: number): void {
    this.sum += seconds;
    this.count += 1;
    for (let i = 0; i < this.buckets.length; i += 1) if (seconds <= this.buckets[i]!) this.counts[i]! += 1;
  }

  render(): string[] {
    const lines = this.buckets.map(
      (b, i) => `${this.name}_bucket${labelText({}, ['le', String(b)])} ${this.counts[i]}`,
    );
    lines.push(
      `${this.name}_bucket{le="+Inf"} ${this.count}`,
      `${this.name}_sum ${this.sum}`,
      `${this.name}_count ${this.count}`,
    );
    return lines;
  }
}

/** Counter increments by the {@link ProcessorMetrics} field they belong to (how a worker's counts travel). */
export type CounterCounts = Record<string, { labels: Labels; value: number }[]>;

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Every metric the processor exposes on `/metrics`. */
export class ProcessorMetrics {
  readonly spansReceived = new Counter(
    'decisiontrail_processor_spans_received_total',
    'Spans decoded from OTLP requests.',
  );
  readonly spansAccepted = new Counter(
    'decisiontrail_processor_spans_accepted_total',
    'Spans written to the write-ahead log and acknowledged.',
  );
  readonly spansRejected = new Counter(
    'decisiontrail_processor_spans_rejected_total',
    'Spans refused at the receiver (invalid ids, or the whole request refused), by reason.',
  );
  readonly requests = new Counter(
    'decisiontrail_processor_requests_total',
    'OTLP requests by HTTP status code.',
  );
  readonly spansVerified = new Counter(
    'decisiontrail_processor_spans_verified_total',
    'Signed spans that passed verification.',
  );
  readonly spansVerifyFailed = new Counter(
    'decisiontrail_processor_spans_verification_failed_total',
    'Signed spans that failed verification.',
  );
  readonly spansQuarantined = new Counter(
    'decisiontrail_processor_spans_quarantined_total',
    'Spans written to the quarantine table instead of the store, by reason code.',
  );
  readonly lateFindings = new Counter(
    'decisiontrail_processor_integrity_findings_late_total',
    'Tamper findings about spans stored before the evidence arrived (run decisiontrail verify), by code.',
  );
  readonly witnessSubmissions = new Counter(
    'decisiontrail_processor_witness_submissions_total',
    'Checkpoints sent to an independent witness, by witness and outcome (cosigned, conflict, bad-proof, unknown-log, refused, unreachable, timeout, garbage, wrong-key, http, no-proof).',
  );
  readonly spansUnsigned = new Counter(
    'decisiontrail_processor_spans_unsigned_total',
    'Audit spans without integrity attributes.',
  );
  readonly spansIncomplete = new Counter(
    'decisiontrail_processor_spans_incomplete_total',
    'Audit spans missing an attribute their semantic convention requires.',
  );
  readonly spansPolicyApplied = new Counter(
    'decisiontrail_processor_spans_policy_applied_total',
    'Unsigned spans whose plaintext attributes were hashed or redacted.',
  );
  readonly policyActions = new Counter(
    'decisiontrail_processor_policy_actions_total',
    'Attributes the policy stage changed, by action (hash, redact; quarantine for a signed span) and attribute.',
  );
  readonly spansDropped = new Counter(
    'decisiontrail_processor_spans_dropped_total',
    'Spans neither stored nor forwarded nor quarantined, by reason (route_other: a non-audit span under route.other: drop).',
  );
  readonly spansStored = new Counter(
    'decisiontrail_processor_spans_stored_total',
    'Spans written to a sink, by sink.',
  );
  readonly spansDuplicate = new Counter(
    'decisiontrail_processor_spans_duplicate_total',
    'Spans dropped as repeats of a span id.',
  );
  readonly sinkErrors = new Counter(
    'decisiontrail_processor_sink_errors_total',
    'Failed sink writes (each is retried), by sink.',
  );
  readonly ackLatency = new Histogram(
    'decisiontrail_processor_ack_latency_seconds',
    'Time from request received to durable acknowledgement.',
    LATENCY_BUCKETS,
  );
  readonly sinkLatency = new Histogram(
    'decisiontrail_processor_sink_latency_seconds',
    'Duration of one successful sink write.',
    LATENCY_BUCKETS,
  );
  private readonly gauges: Gauge[] = [];

  /** Adds a gauge read at scrape time (queue depth, backlog bytes). */
  addGauge(name: string, help: string, read: () => number): void {
    this.gauges.push(new Gauge(name, help, read));
  }

  /**
   * Every counter's increments since the last call, cleared here: the span worker counts into its own
   * instance and hands the counts to the processor's, which {@link addCounts} adds up.
   */
  takeCounts(): CounterCounts {
    const counts: CounterCounts = {};
    for (const [field, series] of Object.entries(this)) {
      if (series instanceof Counter) {
        const taken = series.take();
        if (taken.length > 0) counts[field] = taken;
      }
    }
    return counts;
  }

  /** Adds counts taken from another instance by {@link takeCounts}. */
  addCounts(counts: CounterCounts): void {
    for (const [field, increments] of Object.entries(counts)) {
      const series: unknown = (this as unknown as Record<string, unknown>)[field];
      if (!(series instanceof Counter)) continue;
      for (const { labels, value } of increments) series.inc(value, labels);
    }
  }

  /** The exposition text. */
  render(): string {
    const series: Series[] = [
      this.spansReceived,
      this.spansAccepted,
      this.spansRejected,
      this.requests,
      this.spansVerified,
      this.spansVerifyFailed,
      this.spansQuarantined,
      this.lateFindings,
      this.witnessSubmissions,
      this.spansUnsigned,
      this.spansIncomplete,
      this.spansPolicyApplied,
      this.policyActions,
      this.spansDropped,
      this.spansStored,
      this.spansDuplicate,
      this.sinkErrors,
      this.ackLatency,
      this.sinkLatency,
      ...this.gauges,
    ];
    const lines: string[] = [];
    for (const s of series)
      lines.push(`# HELP ${s.name} ${s.help}`, `# TYPE ${s.name} ${s.type}`, ...s.render());
    return `${lines.join('\n')}\n`;
  }
}
