/** Attribute value types of the semantic-convention syntax (v2) that the generator supports. */
export const PRIMITIVE_TYPES = [
  'string',
  'int',
  'double',
  'boolean',
  'string[]',
  'int[]',
  'double[]',
  'boolean[]',
] as const;

/** A primitive or array attribute type. */
export type PrimitiveType = (typeof PRIMITIVE_TYPES)[number];

/** Stability levels the v2 syntax accepts. */
export const STABILITY_LEVELS = ['stable', 'development', 'alpha', 'beta', 'release_candidate'] as const;

/** Span kinds the v2 syntax accepts. */
export const SPAN_KINDS = ['client', 'server', 'producer', 'consumer', 'internal'] as const;

/** The requirement levels of a signal itself; Weaver's schema allows no other (not `required`). */
export const SIGNAL_REQUIREMENT_LEVELS = ['recommended', 'opt_in'] as const;

/** One member of an enum attribute. */
export interface EnumMember {
  readonly id: string;
  readonly value: string;
  readonly brief: string;
}

/** An attribute defined by this registry, validated. */
export interface AttributeDefinition {
  readonly key: string;
  /** The primitive type; enum attributes are `string`. */
  readonly type: PrimitiveType;
  /** Members when the attribute is an enum, otherwise empty. */
  readonly members: readonly EnumMember[];
  readonly brief: string;
  readonly note: string;
  readonly stability: string;
  readonly examples: readonly unknown[];
  /** Regulation references from the `decisiontrail.regulations` annotation. */
  readonly regulations: readonly string[];
  /** Registry file the attribute is defined in, relative to the registry directory. */
  readonly file: string;
}

/** A public attribute group: the unit of generated documentation. */
export interface AttributeGroup {
  readonly id: string;
  readonly brief: string;
  readonly note: string;
  readonly attributes: readonly string[];
  readonly file: string;
}

/** The OpenTelemetry requirement levels an attribute reference can carry. */
export type RequirementLevel = 'required' | 'conditionally_required' | 'recommended' | 'opt_in';

/** A machine-checkable condition for a conditionally required attribute. */
export interface RequiredWhen {
  /** The attribute whose presence (or value) makes the referencing attribute required. */
  readonly attribute: string;
  /** When present, the attribute must have one of these values; otherwise presence suffices. */
  readonly oneOf?: readonly string[];
}

/** A span's reference to an attribute with its requirement level. */
export interface SpanAttributeRef {
  readonly key: string;
  readonly requirementLevel: RequirementLevel;
  /** Human-readable condition for `conditionally_required`. */
  readonly condition: string;
  readonly requiredWhen?: RequiredWhen;
  readonly samplingRelevant: boolean;
  readonly note: string;
}

/** A signal's own requirement level: whether instrumentation emits it by default (`recommended`) or on request. */
export type SignalRequirementLevel = (typeof SIGNAL_REQUIREMENT_LEVELS)[number];

/** A span definition. */
export interface SpanDefinition {
  readonly type: string;
  /** The `audit.record.type` value the span carries (its type without the `audit.` prefix). */
  readonly recordType: string;
  readonly kind: string;
  readonly requirementLevel: SignalRequirementLevel;
  readonly nameNote: string;
  readonly brief: string;
  readonly note: string;
  readonly stability: string;
  readonly attributes: readonly SpanAttributeRef[];
  readonly file: string;
}

/** An attribute of the upstream OpenTelemetry registry that decisiontrail uses. */
export interface UpstreamAttribute {
  readonly key: string;
  readonly type: PrimitiveType;
  readonly brief: string;
  /** Well-known values the project emits, as `[MEMBER_ID, value]`; empty for free-form attributes. */
  readonly values: readonly (readonly [string, string])[];
}

/** The manifest fields the generator uses (Weaver's definition manifest, `schemas/definition-manifest.v2.json`). */
export interface RegistryManifest {
  /** Identifies the registry and its version: `http[s]://server[:port]/path/<version>`. */
  readonly schemaUrl: string;
  /** The last path segment of `schemaUrl`. */
  readonly version: string;
  readonly description: string;
  readonly stability: string;
  readonly dependencies: readonly { readonly schemaUrl: string; readonly registryPath: string }[];
}

/** A validated registry. */
export interface Registry {
  readonly manifest: RegistryManifest;
  readonly attributes: readonly AttributeDefinition[];
  readonly groups: readonly AttributeGroup[];
  readonly spans: readonly SpanDefinition[];
  readonly upstream: readonly UpstreamAttribute[];
}
