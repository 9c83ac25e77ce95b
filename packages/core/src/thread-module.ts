import { writeFileSync } from 'node:fs';

/**
 * Where a worker thread's module is and how to start it, for a package that runs from TypeScript sources in
 * this repository (the `@decisiontrail/source` condition) and from built JavaScript once installed.
 *
 * `from` is the `import.meta.url` of the module that starts the thread; `name` is the thread module's file name
 * without its extension, in the same directory. From source the thread module is TypeScript too, and it must
 * resolve the workspace packages to their sources, which a test runner may do without passing the condition to
 * Node: it is then added to the thread's `execArgv`. Otherwise the thread inherits the process's arguments (V8
 * flags included, which an explicit list may not hold).
 */
export function threadModule(from: string, name: string): { url: URL; execArgv: string[] | undefined } {
  const fromSource = from.endsWith('.ts');
  const source = '--conditions=@decisiontrail/source';
  return {
    url: new URL(`./${name}${fromSource ? '.ts' : '.js'}`, from),
    execArgv: fromSource && !process.execArgv.includes(source) ? [...process.execArgv, source] : undefined,
  };
}

/**
 * Names the calling thread for the OS (on Linux, /proc/thread-self/comm, at most 15 bytes), so that its CPU time
 * can be told apart from Node's other threads; best effort: where that is not allowed it keeps Node's name.
 */
export function nameThread(name: string): void {
  if (process.platform !== 'linux') return;
  try {
    writeFileSync('/proc/thread-self/comm', name.slice(0, 15));
  } catch {
    // Not allowed here (a sandbox, say).
  }
}
