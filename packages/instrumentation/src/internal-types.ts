// Structural views of the parts of the instrumented SDKs this package touches. They are deliberately narrow:
// the SDKs' own types differ between majors, and the instrumentation must not import them at run time.

/** The Stainless `Stream` class shared by openai and @anthropic-ai/sdk. */
export interface SdkStream {
  iterator: (this: unknown) => AsyncIterator<unknown>;
  controller?: AbortController;
}

/** A method patched on a resource prototype. */
export type ResourceMethod = (this: ResourceThis, ...args: unknown[]) => unknown;

/** `this` of an SDK resource method: the client is reachable for its base URL. */
export interface ResourceThis {
  _client?: { baseURL?: string };
}

/** A loose JSON object read from requests and responses. */
export type JsonObject = Record<string, unknown>;

/** The `InferenceSession` class of onnxruntime-common as far as the instrumentation uses it. */
export interface OnnxSessionClass {
  create: (...args: unknown[]) => Promise<object>;
  prototype: { run: (this: object, ...args: unknown[]) => Promise<Record<string, OnnxTensor>> };
}

/** An onnxruntime tensor as far as confidence extraction reads it. */
export interface OnnxTensor {
  data: ArrayLike<number | bigint | string | boolean>;
  dims: readonly number[];
  type: string;
}
