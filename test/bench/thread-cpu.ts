// CPU time per thread of a running process, from Linux's /proc/<pid>/task/<tid>/stat, for benchmarks that say
// which thread bounds a run (the main thread, decoder or span workers, the embedded engine's pools).
import { readFileSync, readdirSync } from 'node:fs';

/** Linux's USER_HZ: the unit of utime and stime in /proc (100 on every common configuration). */
const CLOCK_TICKS = 100;

/** One thread's CPU seconds so far (user + system) and the name the OS knows it by. */
export interface ThreadCpu {
  tid: number;
  /** `main` for the process's own thread; otherwise its comm (Node's helper threads are all `node`). */
  name: string;
  seconds: number;
}

/** Every live thread of `pid` with its CPU seconds; empty when the process is gone. */
export function threadCpu(pid: number): ThreadCpu[] {
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
  const threads: ThreadCpu[] = [];
  for (const tid of tids) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    } catch {
      continue; // ended meanwhile
    }
    const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    // Fields after the parenthesised name; utime and stime are the 14th and 15th fields overall.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    threads.push({
      tid: Number(tid),
      name: Number(tid) === pid ? 'main' : comm,
      seconds: (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS,
    });
  }
  return threads;
}

/**
 * Keeps each thread's last CPU reading while a process runs (call {@link sample} periodically), so threads that
 * end before it does still count up to their last sample; {@link byName} sums them per name.
 */
export class ThreadCpuSampler {
  readonly #last = new Map<number, ThreadCpu>();

  sample(pid: number): void {
    for (const thread of threadCpu(pid)) this.#last.set(thread.tid, thread);
  }

  /** CPU seconds per thread name, largest first, with how many threads had that name. */
  byName(): { name: string; seconds: number; threads: number }[] {
    const sums = new Map<string, { seconds: number; threads: number }>();
    for (const { name, seconds } of this.#last.values()) {
      const sum = sums.get(name) ?? { seconds: 0, threads: 0 };
      sum.seconds += seconds;
      sum.threads += 1;
      sums.set(name, sum);
    }
    return [...sums].map(([name, s]) => ({ name, ...s })).sort((a, b) => b.seconds - a.seconds);
  }
}
