import { usageError } from '../cli-error.ts';
import type { CommandSpec } from '../command.ts';
import { stringOption } from '../commands/option-values.ts';
import { EXIT_CODES } from '../exit-codes.ts';
import { runDemo } from './run-demo.ts';

/** Where the demo keeps its store, keys and report unless told otherwise (gitignored via `.decisiontrail/`). */
export const DEFAULT_DEMO_DIR = '.decisiontrail/demo';
const DEFAULT_APPLICANTS = 3_000;

/** `decisiontrail demo` */
export const demoCommand: CommandSpec = {
  kind: 'command',
  name: 'demo',
  summary:
    'the whole product in under a minute: workload, processor, store, timeline, report, incident, verify, tamper',
  usage: 'demo [--dir DIR] [--applicants N]',
  description:
    'Starts the processor in-process on the embedded ClickHouse engine and runs a lending workload through the\n' +
    'signing exporter over OTLP/HTTP: an ONNX credit model deciding for pseudonymous applicants, underwriters\n' +
    'reviewing and overriding, an LLM assistant (the openai client against a local OpenAI-compatible server),\n' +
    'loan outcomes as feedback, and a v1 → v2 deployment that degrades. Then it shows the counts, the timeline\n' +
    'of an overridden decision, the EU AI Act report (also written as HTML), an incident investigation, verify\n' +
    'passing, and verify failing on a copy of the store with one altered row. DIR is deleted and recreated on\n' +
    'every run (only if the demo made it).',
  options: {
    dir: {
      type: 'string',
      valueName: 'DIR',
      description: `where the demo keeps everything (default ${DEFAULT_DEMO_DIR})`,
    },
    applicants: {
      type: 'string',
      valueName: 'N',
      description: `loan applicants to decide for (default ${DEFAULT_APPLICANTS})`,
    },
  },
  positionals: { min: 0, max: 0, names: '' },
  json: false,
  examples: [
    { command: 'demo', note: 'the full story with 3,000 applicants' },
    { command: 'demo --applicants 500 --dir /tmp/dt-demo', note: 'a quicker run somewhere else' },
  ],
  async run(context) {
    const applicantsText = stringOption(context, 'applicants');
    const applicants = applicantsText === undefined ? DEFAULT_APPLICANTS : Number(applicantsText);
    if (!Number.isInteger(applicants) || applicants < 50 || applicants > 100_000) {
      throw usageError(
        `demo: --applicants must be a whole number from 50 to 100000, not ${JSON.stringify(applicantsText)}`,
      );
    }
    await runDemo(context, { dir: stringOption(context, 'dir') ?? DEFAULT_DEMO_DIR, applicants });
    return EXIT_CODES.OK;
  },
};
