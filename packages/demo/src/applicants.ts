import { createHash } from 'node:crypto';
import { creditLogit } from './credit-model.ts';

/** One synthetic loan applicant. Nothing here identifies a person: the id is a keyed pseudonym. */
export interface Applicant {
  /** Pseudonymous data subject id (`audit.subject.id`). */
  subjectId: string;
  /** Group monitored for fairness (`audit.fairness.group`). */
  fairnessGroup: 'group-a' | 'group-b';
  /** Feature vector in the model's input order. */
  features: [income10k: number, debtToIncome: number, yearsEmployed: number, latePayments: number];
  /** What really happened later: whether the loan would have been repaid (the demo's ground truth). */
  repays: boolean;
}

/** A small seeded generator (mulberry32), so every demo run tells the same story. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function normal(random: () => number): number {
  // Box-Muller; 1 - u keeps the logarithm finite.
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

const round = (value: number, digits: number): number => Number(value.toFixed(digits));

/**
 * `count` applicants. Group B earns a little less on average, which the fairness report shows as an approval
 * gap. Ground truth follows the sound v1 model plus noise, so v1 is right about four times in five and the
 * "retrained" v2, which ignores late payments, is right far less often. From `riskierFrom` on (the applicant
 * index; default: never) the mix turns riskier — debt-to-income 0.1 higher, one more late payment for every third
 * applicant — as word spreads that v2 approves them: the input drift the demo's investigation shows.
 */
export function generateApplicants(count: number, seed = 20260301, riskierFrom = count): Applicant[] {
  const random = seededRandom(seed);
  const applicants: Applicant[] = [];
  for (let index = 0; index < count; index++) {
    const fairnessGroup = random() < 0.55 ? 'group-a' : 'group-b';
    const income = Math.max(1.5, (fairnessGroup === 'group-a' ? 6.2 : 5.4) + 2.2 * normal(random));
    // The same draws either way, so the applicants before `riskierFrom` do not change with it.
    const riskier = index >= riskierFrom;
    const debtToIncome = Math.min(0.9, Math.max(0.02, 0.32 + 0.14 * normal(random) + (riskier ? 0.1 : 0)));
    const yearsEmployed = Math.max(0, 5 + 4 * normal(random));
    const latePayments = Math.floor(-Math.log(1 - random()) * 0.9) + (riskier && index % 3 === 0 ? 1 : 0);
    const features: Applicant['features'] = [
      round(income, 2),
      round(debtToIncome, 3),
      round(yearsEmployed, 1),
      latePayments,
    ];
    const repays = creditLogit(features, '1.0.0') + 0.9 * normal(random) > 0;
    const subjectId = `subj-${createHash('sha256').update(`demo-applicant-${seed}-${index}`).digest('hex').slice(0, 16)}`;
    applicants.push({ subjectId, fairnessGroup, features, repays });
  }
  return applicants;
}
