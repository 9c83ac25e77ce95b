/** Instrumentation scope of the spans this package creates (checkpoints). */
export const PACKAGE_NAME = '@decisiontrail/signing-exporter';
export const PACKAGE_VERSION = '0.1.0';
