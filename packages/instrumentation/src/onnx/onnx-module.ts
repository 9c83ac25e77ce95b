import type { OnnxSessionClass } from '../internal-types.ts';

/** The `InferenceSession` class of an onnxruntime-node module (CommonJS exports or ESM namespace). */
export function inferenceSessionOf(moduleExports: unknown): OnnxSessionClass | undefined {
  const exports = moduleExports as Record<string, unknown> | undefined;
  const candidate =
    exports?.['InferenceSession'] ??
    (exports?.['default'] as Record<string, unknown> | undefined)?.['InferenceSession'];
  if (typeof candidate !== 'function') return undefined;
  const session = candidate as unknown as OnnxSessionClass;
  return typeof session.create === 'function' && typeof session.prototype?.run === 'function'
    ? session
    : undefined;
}

/** The runtime's version as onnxruntime-node reports it in `env.versions.node`. */
export function onnxFrameworkVersion(moduleExports: unknown): string | undefined {
  const exports = moduleExports as Record<string, unknown> | undefined;
  const env = (exports?.['env'] ?? (exports?.['default'] as Record<string, unknown> | undefined)?.['env']) as
    { versions?: Record<string, unknown> } | undefined;
  const version = env?.versions?.['node'];
  return typeof version === 'string' ? version : undefined;
}
