import {
  ATTR_AUDIT_CHECKPOINT_NOTE,
  ATTR_AUDIT_COMPLETENESS_MISSING,
  ATTR_AUDIT_DECISION_ID,
  ATTR_AUDIT_INTEGRITY_SEQ,
  ATTR_AUDIT_RECORD_TYPE,
  ATTR_GEN_AI_OPERATION_NAME,
  ATTR_GEN_AI_PROVIDER_NAME,
  AUDIT_ATTRIBUTES,
  AUDIT_DECISION_RISK_LEVEL_VALUES,
  AUDIT_INCIDENT_CATEGORY_VALUES,
  AUDIT_OVERSIGHT_ACTION_VALUES,
  AUDIT_RECORD_TYPE_VALUES,
  AUDIT_SPAN_REQUIREMENTS,
  GEN_AI_OPERATION_NAME_VALUES,
  GEN_AI_PROVIDER_NAME_VALUES,
  SPAN_NAME_AUDIT_CHECKPOINT,
  SPAN_NAME_AUDIT_DECISION,
  SPAN_NAME_AUDIT_DEPLOYMENT,
  SPAN_NAME_AUDIT_FEEDBACK,
  SPAN_NAME_AUDIT_OVERSIGHT,
} from '@decisiontrail/semconv';
import type { AuditDecisionRiskLevel, AuditRecordType } from '@decisiontrail/semconv';
import * as semconv from '@decisiontrail/semconv';
import { describe, expect, expectTypeOf, it } from 'vitest';

/** Every exported string constant that names an attribute, as [export name, value]. */
const attributeExports = (Object.entries(semconv) as [string, unknown][]).filter(
  (entry): entry is [string, string] => entry[0].startsWith('ATTR_') && typeof entry[1] === 'string',
);

describe('@decisiontrail/semconv constants', () => {
  it('names every attribute constant after its key', () => {
    expect(attributeExports.length).toBeGreaterThan(60);
    for (const [name, key] of attributeExports) {
      expect(name).toBe(`ATTR_${key.replaceAll('.', '_').toUpperCase()}`);
    }
  });

  it('exports a constant for every audit attribute in the registry table, and nothing else under audit.', () => {
    const auditKeys = attributeExports.map(([, key]) => key).filter((key) => key.startsWith('audit.'));
    expect(auditKeys.sort()).toEqual(Object.keys(AUDIT_ATTRIBUTES).sort());
  });

  it('has the agreed names and values', () => {
    expect(ATTR_AUDIT_DECISION_ID).toBe('audit.decision.id');
    expect(ATTR_AUDIT_RECORD_TYPE).toBe('audit.record.type');
    expect(ATTR_AUDIT_INTEGRITY_SEQ).toBe('audit.integrity.seq');
    expect(ATTR_AUDIT_CHECKPOINT_NOTE).toBe('audit.checkpoint.note');
    expect(ATTR_AUDIT_COMPLETENESS_MISSING).toBe('audit.completeness.missing');
    expect(ATTR_GEN_AI_OPERATION_NAME).toBe('gen_ai.operation.name');
    expect(ATTR_GEN_AI_PROVIDER_NAME).toBe('gen_ai.provider.name');
    expect(AUDIT_DECISION_RISK_LEVEL_VALUES).toEqual({
      PROHIBITED: 'prohibited',
      HIGH: 'high',
      LIMITED: 'limited',
      MINIMAL: 'minimal',
    });
    expect(Object.values(AUDIT_OVERSIGHT_ACTION_VALUES)).toEqual([
      'review',
      'approve',
      'override',
      'reject',
      'escalate',
    ]);
    expect(Object.values(AUDIT_INCIDENT_CATEGORY_VALUES)).toEqual([
      'death',
      'serious_harm',
      'critical_infrastructure',
      'widespread_infringement',
      'fundamental_rights',
      'property_or_environment',
      'malfunction',
    ]);
    expect(GEN_AI_OPERATION_NAME_VALUES).toEqual({
      CHAT: 'chat',
      TEXT_COMPLETION: 'text_completion',
      EMBEDDINGS: 'embeddings',
      GENERATE_CONTENT: 'generate_content',
      EXECUTE_TOOL: 'execute_tool',
    });
    expect(GEN_AI_PROVIDER_NAME_VALUES).toEqual({
      OPENAI: 'openai',
      ANTHROPIC: 'anthropic',
      GCP_GEMINI: 'gcp.gemini',
      GCP_VERTEX_AI: 'gcp.vertex_ai',
      AWS_BEDROCK: 'aws.bedrock',
      MISTRAL_AI: 'mistral_ai',
    });
    expect([
      SPAN_NAME_AUDIT_DECISION,
      SPAN_NAME_AUDIT_OVERSIGHT,
      SPAN_NAME_AUDIT_FEEDBACK,
      SPAN_NAME_AUDIT_DEPLOYMENT,
      SPAN_NAME_AUDIT_CHECKPOINT,
    ]).toEqual([
      'audit.decision',
      'audit.oversight',
      'audit.feedback',
      'audit.deployment',
      'audit.checkpoint',
    ]);
  });

  it('types enum values as literal unions', () => {
    expectTypeOf<AuditDecisionRiskLevel>().toEqualTypeOf<'prohibited' | 'high' | 'limited' | 'minimal'>();
    expectTypeOf<AuditRecordType>().toEqualTypeOf<
      | 'decision'
      | 'oversight'
      | 'feedback'
      | 'deployment'
      | 'checkpoint'
      | 'loss'
      | 'action'
      | 'batch'
      | 'count'
    >();
    expectTypeOf(ATTR_AUDIT_DECISION_ID).toEqualTypeOf<'audit.decision.id'>();
  });

  it('defines requirements for every record type, only over known attributes', () => {
    expect(Object.keys(AUDIT_SPAN_REQUIREMENTS).sort()).toEqual(
      Object.values(AUDIT_RECORD_TYPE_VALUES).sort(),
    );
    const known = new Set(attributeExports.map(([, key]) => key));
    for (const [recordType, requirement] of Object.entries(AUDIT_SPAN_REQUIREMENTS)) {
      expect(requirement.spanName).toBe(`audit.${recordType}`);
      expect(requirement.required).toContain(ATTR_AUDIT_RECORD_TYPE);
      const keys = [
        ...requirement.required,
        ...requirement.conditionallyRequired.map((entry) => entry.key),
        ...requirement.recommended,
        ...requirement.optIn,
      ];
      expect(new Set(keys).size).toBe(keys.length);
      for (const key of keys) expect(known).toContain(key);
      for (const entry of requirement.conditionallyRequired) {
        if (!('when' in entry)) continue;
        expect(keys).toContain(entry.when.attribute);
        const values = (AUDIT_ATTRIBUTES as Record<string, { values?: readonly string[] }>)[
          entry.when.attribute
        ]?.values;
        for (const value of 'oneOf' in entry.when ? entry.when.oneOf : []) expect(values).toContain(value);
      }
    }
    expect(AUDIT_SPAN_REQUIREMENTS.oversight.required).toEqual([
      'audit.record.type',
      'audit.decision.id',
      'audit.oversight.action',
      'audit.oversight.reviewer',
    ]);
  });
});
