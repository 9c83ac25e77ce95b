import { RegistryError } from './registry-error.ts';
import type { RegistryIssue } from './registry-error.ts';
import {
  PRIMITIVE_TYPES,
  SIGNAL_REQUIREMENT_LEVELS,
  SPAN_KINDS,
  STABILITY_LEVELS,
} from './registry-types.ts';
import type {
  AttributeDefinition,
  AttributeGroup,
  EnumMember,
  PrimitiveType,
  Registry,
  RegistryManifest,
  RequiredWhen,
  SpanAttributeRef,
  SpanDefinition,
  UpstreamAttribute,
} from './registry-types.ts';

/** One parsed registry file. */
export interface RegistryDocument {
  /** Path relative to the registry directory. */
  readonly file: string;
  readonly content: unknown;
}

/** Everything the validator needs: parsed files, the parsed manifest and the upstream keys spans may reference. */
export interface RegistryInput {
  readonly manifestFile: string;
  readonly manifest: unknown;
  readonly documents: readonly RegistryDocument[];
  readonly upstream: readonly UpstreamAttribute[];
}

/** The attribute every audit span carries; span types are `audit.<one of its values>`. */
const RECORD_TYPE_KEY = 'audit.record.type';
const NAMESPACE = 'audit.';
const SNAKE_CASE_SEGMENT = /^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$/;
/** What every model file starts with in Weaver's current syntax (`schemas/semconv-syntax.v2.md`). */
const FILE_FORMAT = 'definition/2';
const FILE_SECTIONS = new Set(['file_format', 'attributes', 'attribute_groups', 'spans']);

// The fields the v2 syntax allows; Weaver rejects anything else, so the generator does too.
const ATTRIBUTE_FIELDS = [
  'key',
  'type',
  'brief',
  'note',
  'stability',
  'deprecated',
  'annotations',
  'examples',
];
const GROUP_FIELDS = [
  'id',
  'visibility',
  'brief',
  'note',
  'stability',
  'deprecated',
  'annotations',
  'attributes',
];
const SPAN_FIELDS = [
  'type',
  'kind',
  'name',
  'brief',
  'note',
  'stability',
  'deprecated',
  'annotations',
  'attributes',
  'entity_associations',
  'requirement_level',
];
const REF_FIELDS = [
  'ref',
  'brief',
  'note',
  'examples',
  'annotations',
  'stability',
  'deprecated',
  'requirement_level',
  'sampling_relevant',
];
const MEMBER_FIELDS = ['id', 'value', 'brief', 'note', 'stability', 'deprecated', 'annotations'];

/** The fields of `raw` that are not in `allowed`. */
function unknownFields(raw: YamlMap, allowed: readonly string[]): string[] {
  return Object.keys(raw).filter((field) => !allowed.includes(field));
}

type YamlMap = Record<string, unknown>;

function isMap(value: unknown): value is YamlMap {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isNonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value.trim() !== '';
}

/** Why `name` is not an acceptable audit name, or undefined when it is. */
function nameProblem(name: string): string | undefined {
  if (!name.startsWith(NAMESPACE)) return `is outside the '${NAMESPACE}' namespace`;
  if (!name.split('.').every((segment) => SNAKE_CASE_SEGMENT.test(segment))) {
    return 'is not snake_case (dot-separated segments of lowercase letters, digits and single underscores)';
  }
  return undefined;
}

/** Text of an optional YAML string field; block scalars keep a trailing newline that documentation must not. */
function optionalText(value: unknown): string {
  return typeof value === 'string' ? value.trim() : '';
}

/**
 * Validates parsed registry files and returns the registry model. Collects every issue before throwing one
 * {@link RegistryError}, so an author sees all problems in one run.
 */
export function validateRegistry(input: RegistryInput): Registry {
  const issues: RegistryIssue[] = [];
  const report = (file: string, subject: string, message: string): void => {
    issues.push({ file, subject, message });
  };

  const manifest = validateManifest(input.manifestFile, input.manifest, report);
  const attributes = new Map<string, AttributeDefinition>();
  const definedIn = new Map<string, string>();
  const rawGroups: { file: string; raw: unknown }[] = [];
  const rawSpans: { file: string; raw: unknown }[] = [];

  for (const { file, content } of input.documents) {
    if (!isMap(content)) {
      report(file, '', `expected a mapping with \`file_format: ${FILE_FORMAT}\` at the top level`);
      continue;
    }
    if ('version' in content) {
      // Weaver deprecates the old marker (a warning, an error under --future); one message says what replaces it.
      report(
        file,
        '',
        `'version' is the deprecated format marker; write \`file_format: ${FILE_FORMAT}\` instead`,
      );
    } else if (content.file_format !== FILE_FORMAT) {
      report(
        file,
        '',
        `expected \`file_format: ${FILE_FORMAT}\`, got ${JSON.stringify(content.file_format)}`,
      );
    }
    for (const section of Object.keys(content)) {
      if (!FILE_SECTIONS.has(section) && section !== 'version')
        report(file, '', `unsupported section '${section}'`);
    }
    for (const raw of sectionItems(file, content, 'attributes', report)) {
      // Duplicates are found by key before anything else, so a second, broken definition is reported as such.
      const key = isMap(raw) && isNonEmptyString(raw.key) ? raw.key : undefined;
      const previous = key === undefined ? undefined : definedIn.get(key);
      if (key !== undefined && previous !== undefined) {
        report(file, `attribute '${key}'`, `duplicate id: already defined in ${previous}`);
        continue;
      }
      if (key !== undefined) definedIn.set(key, file);
      const attribute = validateAttribute(file, raw, report);
      if (attribute !== undefined) attributes.set(attribute.key, attribute);
    }
    for (const raw of sectionItems(file, content, 'attribute_groups', report)) rawGroups.push({ file, raw });
    for (const raw of sectionItems(file, content, 'spans', report)) rawSpans.push({ file, raw });
  }

  const groups: AttributeGroup[] = [];
  const groupIds = new Map<string, string>();
  for (const { file, raw } of rawGroups) {
    const group = validateGroup(file, raw, attributes, report);
    if (group === undefined) continue;
    const previous = groupIds.get(group.id);
    if (previous !== undefined) {
      report(file, `attribute group '${group.id}'`, `duplicate id: already defined in ${previous}`);
      continue;
    }
    groupIds.set(group.id, file);
    if (group.visibility === 'public') groups.push(group.group);
  }

  const grouped = new Set(groups.flatMap((group) => group.attributes));
  for (const attribute of attributes.values()) {
    if (!grouped.has(attribute.key)) {
      report(attribute.file, `attribute '${attribute.key}'`, 'is not in any public attribute group');
    }
  }

  const recordTypes = attributes.get(RECORD_TYPE_KEY)?.members.map((member) => member.value) ?? [];
  const upstreamKeys = new Set(input.upstream.map((attribute) => attribute.key));
  const spans: SpanDefinition[] = [];
  const spanTypes = new Map<string, string>();
  for (const { file, raw } of rawSpans) {
    const span = validateSpan(file, raw, { attributes, upstreamKeys, recordTypes }, report);
    if (span === undefined) continue;
    const previous = spanTypes.get(span.type);
    if (previous !== undefined) {
      report(file, `span '${span.type}'`, `duplicate id: already defined in ${previous}`);
      continue;
    }
    spanTypes.set(span.type, file);
    spans.push(span);
  }

  if (issues.length > 0) throw new RegistryError(issues);
  return {
    manifest: manifest as RegistryManifest,
    attributes: [...attributes.values()],
    groups: inReadingOrder(groups, spans),
    spans,
    upstream: input.upstream,
  };
}

type Report = (file: string, subject: string, message: string) => void;

/**
 * Orders groups as the span definitions first reference their attributes (the decision span's record type, then
 * decision, model, input, ...), so generated code and docs read like the record; unreferenced groups go last.
 */
function inReadingOrder(
  groups: readonly AttributeGroup[],
  spans: readonly SpanDefinition[],
): AttributeGroup[] {
  const firstUse = new Map<string, number>();
  spans
    .flatMap((span) => span.attributes.map((ref) => ref.key))
    .forEach((key, index) => {
      if (!firstUse.has(key)) firstUse.set(key, index);
    });
  const position = (group: AttributeGroup): number =>
    Math.min(...group.attributes.map((key) => firstUse.get(key) ?? Number.MAX_SAFE_INTEGER));
  // Array.prototype.sort is stable, so groups no span uses keep their file order.
  return [...groups].sort((a, b) => position(a) - position(b));
}

function sectionItems(file: string, content: YamlMap, section: string, report: Report): unknown[] {
  const items = content[section];
  if (items === undefined) return [];
  if (!Array.isArray(items)) {
    report(file, '', `'${section}' must be a list`);
    return [];
  }
  return items;
}

/**
 * The fields of Weaver's definition manifest (`schemas/definition-manifest.v2.json`). Weaver ignores any other field;
 * the generator rejects them, so a misspelt field or one of the older manifest's (`name`, `semconv_version`,
 * `schema_base_url`) cannot pass unnoticed.
 */
const MANIFEST_FIELDS = ['schema_url', 'description', 'stability', 'dependencies'];
const DEPENDENCY_FIELDS = ['schema_url', 'registry_path'];
const SCHEMA_URL = /^https?:\/\/[^/\s]+(?:\/[^/\s]+)*\/([^/\s]+)$/;

function validateManifest(file: string, raw: unknown, report: Report): RegistryManifest | undefined {
  if (!isMap(raw)) {
    report(file, '', 'expected a mapping');
    return undefined;
  }
  if ('file_format' in raw) {
    report(
      file,
      '',
      `'file_format' has no place in a definition manifest (got ${JSON.stringify(raw.file_format)}): ` +
        "Weaver reads 'manifest/2.0' as the publication manifest `weaver registry package` writes, " +
        'which needs a resolved registry; remove the field',
    );
  }
  for (const field of unknownFields(raw, MANIFEST_FIELDS)) {
    if (field !== 'file_format') report(file, '', `unknown field '${field}'`);
  }
  const version = typeof raw.schema_url === 'string' ? SCHEMA_URL.exec(raw.schema_url)?.[1] : undefined;
  if (version === undefined) {
    report(file, '', "'schema_url' must be an http(s) URL whose last path segment is the version");
  }
  const stability = raw.stability ?? 'development';
  if (!STABILITY_LEVELS.includes(stability as never)) {
    report(file, '', `stability must be one of ${STABILITY_LEVELS.join(', ')}`);
  }
  const dependencies: { schemaUrl: string; registryPath: string }[] = [];
  const rawDependencies = raw.dependencies ?? [];
  if (!Array.isArray(rawDependencies)) report(file, '', "'dependencies' must be a list");
  else {
    for (const dependency of rawDependencies) {
      if (
        !isMap(dependency) ||
        typeof dependency.schema_url !== 'string' ||
        !SCHEMA_URL.test(dependency.schema_url)
      ) {
        report(file, '', "each dependency needs a 'schema_url' ending in its version");
        continue;
      }
      for (const field of unknownFields(dependency, DEPENDENCY_FIELDS)) {
        report(file, '', `dependency '${dependency.schema_url}' has unknown field '${field}'`);
      }
      dependencies.push({
        schemaUrl: dependency.schema_url,
        registryPath: optionalText(dependency.registry_path),
      });
    }
  }
  return {
    schemaUrl: String(raw.schema_url),
    version: version ?? '',
    description: optionalText(raw.description),
    stability: String(stability),
    dependencies,
  };
}

function regulationsOf(annotations: unknown): string[] | undefined {
  if (annotations === undefined) return [];
  if (!isMap(annotations)) return undefined;
  const own = annotations.decisiontrail;
  if (own === undefined) return [];
  if (!isMap(own)) return undefined;
  const regulations = own.regulations ?? [];
  if (!Array.isArray(regulations) || !regulations.every(isNonEmptyString)) return undefined;
  return regulations;
}

function validateAttribute(file: string, raw: unknown, report: Report): AttributeDefinition | undefined {
  if (!isMap(raw) || !isNonEmptyString(raw.key)) {
    report(file, 'attribute', `has no 'key': ${JSON.stringify(raw)}`);
    return undefined;
  }
  const key = raw.key;
  const subject = `attribute '${key}'`;
  let valid = true;
  const fail = (message: string): void => {
    report(file, subject, message);
    valid = false;
  };

  const problem = nameProblem(key);
  if (problem !== undefined) fail(`name ${problem}`);
  for (const field of unknownFields(raw, ATTRIBUTE_FIELDS)) fail(`unknown field '${field}'`);
  const type = parseType(raw.type, fail);
  if (!isNonEmptyString(raw.brief)) fail('missing brief');
  if (!STABILITY_LEVELS.includes(raw.stability as never)) {
    fail(`stability must be one of ${STABILITY_LEVELS.join(', ')}, got ${JSON.stringify(raw.stability)}`);
  }
  if (!Array.isArray(raw.examples) || raw.examples.length === 0) fail('missing examples');
  if (raw.note !== undefined && typeof raw.note !== 'string') fail('note must be a string');
  const regulations = regulationsOf(raw.annotations);
  if (regulations === undefined) fail('annotations.decisiontrail.regulations must be a list of strings');
  if (!valid || type === undefined || regulations === undefined) return undefined;
  return {
    key,
    type: type.type,
    members: type.members,
    brief: optionalText(raw.brief),
    note: optionalText(raw.note),
    stability: String(raw.stability),
    examples: raw.examples as unknown[],
    regulations,
    file,
  };
}

function parseType(
  raw: unknown,
  fail: (message: string) => void,
): { type: PrimitiveType; members: EnumMember[] } | undefined {
  if (typeof raw === 'string' && PRIMITIVE_TYPES.includes(raw as PrimitiveType)) {
    return { type: raw as PrimitiveType, members: [] };
  }
  if (!isMap(raw) || !('members' in raw)) {
    fail(
      `unknown type ${JSON.stringify(raw)}; expected one of ${PRIMITIVE_TYPES.join(', ')} or an enum with members`,
    );
    return undefined;
  }
  if (!Array.isArray(raw.members) || raw.members.length === 0) {
    fail('enum without members');
    return undefined;
  }
  const members: EnumMember[] = [];
  const ids = new Set<string>();
  const values = new Set<string>();
  for (const member of raw.members) {
    if (!isMap(member) || !isNonEmptyString(member.id) || !SNAKE_CASE_SEGMENT.test(member.id)) {
      fail(`enum member needs a snake_case 'id': ${JSON.stringify(member)}`);
      return undefined;
    }
    const extra = unknownFields(member, MEMBER_FIELDS);
    if (extra.length > 0) {
      fail(`enum member '${member.id}' has unknown field '${extra[0]}'`);
      return undefined;
    }
    if (typeof member.value !== 'string') {
      fail(`enum member '${member.id}' needs a string 'value' (int and boolean enums are not generated)`);
      return undefined;
    }
    if (ids.has(member.id) || values.has(member.value)) {
      fail(`enum member '${member.id}' duplicates the id or value of another member`);
      return undefined;
    }
    ids.add(member.id);
    values.add(member.value);
    members.push({ id: member.id, value: member.value, brief: optionalText(member.brief) });
  }
  return { type: 'string', members };
}

function validateGroup(
  file: string,
  raw: unknown,
  attributes: ReadonlyMap<string, AttributeDefinition>,
  report: Report,
): { id: string; visibility: string; group: AttributeGroup } | undefined {
  if (!isMap(raw) || !isNonEmptyString(raw.id)) {
    report(file, 'attribute group', `has no 'id': ${JSON.stringify(raw)}`);
    return undefined;
  }
  const id = raw.id;
  const subject = `attribute group '${id}'`;
  let valid = true;
  const fail = (message: string): void => {
    report(file, subject, message);
    valid = false;
  };
  const problem = nameProblem(id);
  if (problem !== undefined) fail(`id ${problem}`);
  for (const field of unknownFields(raw, GROUP_FIELDS)) fail(`unknown field '${field}'`);
  if (raw.visibility !== 'public' && raw.visibility !== 'internal')
    fail("visibility must be 'public' or 'internal'");
  if (raw.visibility === 'public') {
    if (!isNonEmptyString(raw.brief)) fail('missing brief');
    if (!STABILITY_LEVELS.includes(raw.stability as never))
      fail(`stability must be one of ${STABILITY_LEVELS.join(', ')}`);
  }
  const keys: string[] = [];
  for (const ref of Array.isArray(raw.attributes) ? raw.attributes : []) {
    if (!isMap(ref) || !isNonEmptyString(ref.ref)) {
      fail(`attributes must be '- ref: <key>' entries, got ${JSON.stringify(ref)}`);
      continue;
    }
    for (const field of unknownFields(ref, REF_FIELDS))
      fail(`attribute '${ref.ref}' has unknown field '${field}'`);
    if (!attributes.has(ref.ref)) fail(`references undefined attribute '${ref.ref}'`);
    else keys.push(ref.ref);
  }
  if (!Array.isArray(raw.attributes) || keys.length === 0) fail('has no attributes');
  if (!valid) return undefined;
  return {
    id,
    visibility: String(raw.visibility),
    group: { id, brief: optionalText(raw.brief), note: optionalText(raw.note), attributes: keys, file },
  };
}

interface SpanContext {
  readonly attributes: ReadonlyMap<string, AttributeDefinition>;
  readonly upstreamKeys: ReadonlySet<string>;
  readonly recordTypes: readonly string[];
}

function validateSpan(
  file: string,
  raw: unknown,
  context: SpanContext,
  report: Report,
): SpanDefinition | undefined {
  if (!isMap(raw) || !isNonEmptyString(raw.type)) {
    report(file, 'span', `has no 'type': ${JSON.stringify(raw)}`);
    return undefined;
  }
  const type = raw.type;
  const subject = `span '${type}'`;
  let valid = true;
  const fail = (message: string): void => {
    report(file, subject, message);
    valid = false;
  };
  const problem = nameProblem(type);
  if (problem !== undefined) fail(`type ${problem}`);
  for (const field of unknownFields(raw, SPAN_FIELDS)) fail(`unknown field '${field}'`);
  const recordType = type.slice(NAMESPACE.length);
  if (problem === undefined && !context.recordTypes.includes(recordType)) {
    fail(`type must be 'audit.<record type>' where the record type is a value of ${RECORD_TYPE_KEY}`);
  }
  if (!SPAN_KINDS.includes(raw.kind as never)) fail(`kind must be one of ${SPAN_KINDS.join(', ')}`);
  if (!isNonEmptyString(raw.brief)) fail('missing brief');
  if (!STABILITY_LEVELS.includes(raw.stability as never))
    fail(`stability must be one of ${STABILITY_LEVELS.join(', ')}`);
  if (!isMap(raw.name) || !isNonEmptyString(raw.name.note))
    fail("missing 'name.note' (how the span is named)");
  // Weaver defaults a missing level to recommended but asks for it (an error under --future); the attribute levels
  // `required` and `conditionally_required` are not signal levels and its schema rejects them here.
  const requirementLevel = SIGNAL_REQUIREMENT_LEVELS.find((level) => level === raw.requirement_level);
  if (requirementLevel === undefined) {
    fail(
      raw.requirement_level === undefined
        ? `missing 'requirement_level' (${SIGNAL_REQUIREMENT_LEVELS.join(' or ')}: whether instrumentation emits the span by default)`
        : `requirement_level must be ${SIGNAL_REQUIREMENT_LEVELS.join(' or ')} for a span, got ${JSON.stringify(raw.requirement_level)}`,
    );
  }

  const refs: SpanAttributeRef[] = [];
  for (const entry of Array.isArray(raw.attributes) ? raw.attributes : []) {
    if (!isMap(entry) || !isNonEmptyString(entry.ref)) {
      fail(`attributes must be '- ref: <key>' entries, got ${JSON.stringify(entry)}`);
      continue;
    }
    const key = entry.ref;
    if (!context.attributes.has(key) && !context.upstreamKeys.has(key)) {
      fail(`references undefined attribute '${key}'`);
      continue;
    }
    if (refs.some((ref) => ref.key === key)) {
      fail(`references attribute '${key}' twice`);
      continue;
    }
    for (const field of unknownFields(entry, REF_FIELDS))
      fail(`attribute '${key}' has unknown field '${field}'`);
    const ref = parseSpanRef(key, entry, fail);
    if (ref !== undefined) refs.push(ref);
  }
  if (!refs.some((ref) => ref.key === RECORD_TYPE_KEY && ref.requirementLevel === 'required')) {
    fail(`must reference '${RECORD_TYPE_KEY}' with requirement_level: required`);
  }
  for (const ref of refs) {
    if (ref.requiredWhen === undefined) continue;
    const trigger = refs.find((candidate) => candidate.key === ref.requiredWhen?.attribute);
    if (trigger === undefined) {
      fail(
        `required_when of '${ref.key}' names '${ref.requiredWhen.attribute}', which the span does not reference`,
      );
      continue;
    }
    const members = context.attributes.get(trigger.key)?.members.map((member) => member.value) ?? [];
    for (const value of ref.requiredWhen.oneOf ?? []) {
      if (!members.includes(value)) {
        fail(`required_when of '${ref.key}' uses '${value}', which is not a value of '${trigger.key}'`);
      }
    }
  }
  if (!valid || !isMap(raw.name) || requirementLevel === undefined) return undefined;
  return {
    type,
    recordType,
    kind: String(raw.kind),
    requirementLevel,
    nameNote: optionalText(raw.name.note),
    brief: optionalText(raw.brief),
    note: optionalText(raw.note),
    stability: String(raw.stability),
    attributes: refs,
    file,
  };
}

function parseSpanRef(
  key: string,
  entry: YamlMap,
  fail: (message: string) => void,
): SpanAttributeRef | undefined {
  const level = entry.requirement_level ?? 'recommended';
  let requirementLevel: SpanAttributeRef['requirementLevel'];
  let condition = '';
  if (level === 'required' || level === 'recommended' || level === 'opt_in') {
    requirementLevel = level;
  } else if (isMap(level) && isNonEmptyString(level.conditionally_required)) {
    requirementLevel = 'conditionally_required';
    condition = level.conditionally_required.trim();
  } else if (isMap(level) && isNonEmptyString(level.recommended)) {
    requirementLevel = 'recommended';
    condition = level.recommended.trim();
  } else {
    fail(`attribute '${key}' has an invalid requirement_level ${JSON.stringify(level)}`);
    return undefined;
  }
  const requiredWhen = parseRequiredWhen(entry.annotations);
  if (requiredWhen === null) {
    fail(
      `attribute '${key}': annotations.decisiontrail.required_when needs 'attribute' and an optional 'one_of' list`,
    );
    return undefined;
  }
  if (requiredWhen !== undefined && requirementLevel !== 'conditionally_required') {
    fail(`attribute '${key}': required_when is only meaningful with conditionally_required`);
    return undefined;
  }
  return {
    key,
    requirementLevel,
    condition,
    ...(requiredWhen === undefined ? {} : { requiredWhen }),
    samplingRelevant: entry.sampling_relevant === true,
    note: optionalText(entry.note),
  };
}

/** The `required_when` annotation, undefined when absent, null when malformed. */
function parseRequiredWhen(annotations: unknown): RequiredWhen | undefined | null {
  if (!isMap(annotations) || !isMap(annotations.decisiontrail)) return undefined;
  const raw = annotations.decisiontrail.required_when;
  if (raw === undefined) return undefined;
  if (!isMap(raw) || !isNonEmptyString(raw.attribute)) return null;
  if (raw.one_of === undefined) return { attribute: raw.attribute };
  if (!Array.isArray(raw.one_of) || raw.one_of.length === 0 || !raw.one_of.every(isNonEmptyString))
    return null;
  return { attribute: raw.attribute, oneOf: raw.one_of };
}
