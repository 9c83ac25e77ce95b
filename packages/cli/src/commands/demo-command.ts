import { CliError, usageError } from '../cli-error.ts';
import type { CommandContext, CommandSpec } from '../command.ts';
import { EXIT_CODES } from '../exit-codes.ts';
import { stringOption } from './option-values.ts';

/** The package that holds the demo. It needs onnxruntime-node and openai, which the CLI does not. */
const DEMO_PACKAGE = '@decisiontrail/demo';

/** Where the demo keeps its store, keys and report unless told otherwise (gitignored via `.decisiontrail/`). */
export const DEFAULT_DEMO_DIR = '.decisiontrail/demo';
const DEFAULT_APPLICANTS = 3_000;

/** What the `demo` command passes to the demo. */
export interface DemoOptions {
  /** Directory the demo owns and recreates on every run. */
  dir: string;
  /** Number of loan applicants. */
  applicants: number;
}

/** What {@link DEMO_PACKAGE} provides: the CLI loads it only when `demo` runs. */
export interface DemoModule {
  runDemo(context: CommandContext, options: DemoOptions): Promise<void>;
}

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
    `every run (only if the demo made it). The demo is the package ${DEMO_PACKAGE} (it brings onnxruntime-node\n` +
    'and openai); installed beside the CLI, or in the repository, this command runs it.',
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
    const demo = await loadDemo();
    await demo.runDemo(context, { dir: stringOption(context, 'dir') ?? DEFAULT_DEMO_DIR, applicants });
    return EXIT_CODES.OK;
  },
};

/**
 * Loads {@link DEMO_PACKAGE} as the CLI itself would resolve it; when it is not installed, says what to install.
 * Only a missing demo package gets that message: an error inside an installed demo is passed on as it is.
 */
async function loadDemo(): Promise<DemoModule> {
  try {
    import.meta.resolve(DEMO_PACKAGE);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ERR_MODULE_NOT_FOUND') throw error;
    throw new CliError(
      'CONFIG',
      `demo: the demo is a separate package that is not installed here; install it beside the CLI with ` +
        `"npm install ${DEMO_PACKAGE}" (it brings onnxruntime-node and openai), then run "decisiontrail demo" again`,
      { cause: error },
    );
  }
  const demo = (await import(DEMO_PACKAGE)) as Partial<DemoModule>;
  if (typeof demo.runDemo !== 'function') {
    throw new CliError(
      'CONFIG',
      `demo: the installed ${DEMO_PACKAGE} has no runDemo; install the version that matches this CLI`,
    );
  }
  return demo as DemoModule;
}
