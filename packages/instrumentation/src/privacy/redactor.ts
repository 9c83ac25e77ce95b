import type { RedactionRule } from '../types.ts';

interface CompiledRule {
  name: string;
  pattern: RegExp;
  /** Extra check on a match, for patterns (card numbers) whose regex alone catches too much. */
  accept?: (match: string) => boolean;
}

// Order matters: IBANs and card numbers are digit runs a phone pattern would also take.
const BUILT_IN_RULES: CompiledRule[] = [
  { name: 'email', pattern: /[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g },
  { name: 'iban', pattern: /\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b/g },
  { name: 'card', pattern: /\b\d(?:[ -]?\d){12,18}\b/g, accept: passesLuhn },
  // US SSN, UK National Insurance number, and generic national ids written as 3-2-4 digit groups.
  {
    name: 'national-id',
    pattern: /\b\d{3}-\d{2}-\d{4}\b|\b[A-CEGHJ-PR-TW-Z]{2} ?\d{2} ?\d{2} ?\d{2} ?[A-D]\b/g,
  },
  { name: 'phone', pattern: /(?:\+\d{1,3}[ .-]?)?(?:\(\d{1,4}\)[ .-]?)?\d{2,4}(?:[ .-]?\d{2,4}){2,4}\b/g },
];

/** Replaces custom patterns, then e-mail addresses, IBANs, payment cards, national ids and phone numbers. */
export class Redactor {
  readonly #rules: CompiledRule[];

  constructor(customRules: RedactionRule[] = []) {
    // Custom rules first: they are the more specific, and a built-in (phone) would otherwise eat their digits.
    this.#rules = [
      ...customRules.map((rule) => ({
        name: rule.name,
        pattern: rule.pattern.global
          ? rule.pattern
          : new RegExp(rule.pattern.source, `${rule.pattern.flags}g`),
      })),
      ...BUILT_IN_RULES,
    ];
  }

  /** The text with every match replaced by `[REDACTED:<rule>]`. */
  redact(text: string): string {
    let result = text;
    for (const rule of this.#rules) {
      result = result.replace(rule.pattern, (match) =>
        rule.accept && !rule.accept(match) ? match : `[REDACTED:${rule.name}]`,
      );
    }
    return result;
  }
}

function passesLuhn(candidate: string): boolean {
  const digits = candidate.replace(/\D/g, '');
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let digit = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
  }
  return sum % 10 === 0;
}
