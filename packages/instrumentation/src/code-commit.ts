import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/**
 * CI variables that name the commit being built or deployed, in the order they are tried: GitHub Actions, GitLab,
 * Buildkite, CircleCI, Jenkins, Bitbucket, Azure Pipelines, Travis, Vercel, Heroku / Cloud Foundry builds.
 */
export const CODE_COMMIT_VARIABLES = [
  'GITHUB_SHA',
  'CI_COMMIT_SHA',
  'BUILDKITE_COMMIT',
  'CIRCLE_SHA1',
  'GIT_COMMIT',
  'BITBUCKET_COMMIT',
  'BUILD_SOURCEVERSION',
  'TRAVIS_COMMIT',
  'VERCEL_GIT_COMMIT_SHA',
  'SOURCE_VERSION',
] as const;

const COMMIT = /^[0-9a-f]{7,64}$/i;

/** The commit a git checkout at or above `dir` has checked out (HEAD, a loose ref or packed-refs), else undefined. */
function gitCheckoutCommit(dir: string): string | undefined {
  for (let at = resolve(dir); ; at = dirname(at)) {
    const gitDir = join(at, '.git');
    if (existsSync(join(gitDir, 'HEAD'))) {
      const head = readFileSync(join(gitDir, 'HEAD'), 'utf8').trim();
      if (COMMIT.test(head)) return head.toLowerCase();
      const ref = /^ref: (refs\/[\w./-]+)$/.exec(head)?.[1];
      if (ref === undefined || ref.includes('..')) return undefined;
      if (existsSync(join(gitDir, ref))) {
        const loose = readFileSync(join(gitDir, ref), 'utf8').trim();
        return COMMIT.test(loose) ? loose.toLowerCase() : undefined;
      }
      if (!existsSync(join(gitDir, 'packed-refs'))) return undefined;
      for (const line of readFileSync(join(gitDir, 'packed-refs'), 'utf8').split('\n')) {
        const [sha, name] = line.trim().split(' ');
        if (name === ref && sha !== undefined && COMMIT.test(sha)) return sha.toLowerCase();
      }
      return undefined;
    }
    if (dirname(at) === at) return undefined;
  }
}

/**
 * The code commit a process runs, for `audit.model.code_commit`: the first CI variable of
 * {@link CODE_COMMIT_VARIABLES} that holds a commit id, else the git checkout the process runs in (from `cwd`
 * upwards), else undefined. Reading the checkout fails open: anything unreadable means "not known".
 */
export function detectCodeCommit(env: NodeJS.ProcessEnv, cwd: string = process.cwd()): string | undefined {
  for (const name of CODE_COMMIT_VARIABLES) {
    const value = env[name]?.trim();
    if (value !== undefined && COMMIT.test(value)) return value.toLowerCase();
  }
  try {
    return gitCheckoutCommit(cwd);
  } catch {
    return undefined;
  }
}
