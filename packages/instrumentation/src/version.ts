// Kept in step with package.json by hand: a JSON import would pull the manifest into every bundle.
/** The npm name of this package, used as the instrumentation scope name. */
export const PACKAGE_NAME = '@decisiontrail/instrumentation';
/** The version of this package, used as the instrumentation scope version. */
export const PACKAGE_VERSION = '0.1.0';
