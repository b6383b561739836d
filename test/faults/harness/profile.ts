/**
 * Which scenarios run, and how long outages last: the full matrix by default (the nightly run,
 * `npm run test:faults`), a subset with shorter outages under `SESSIONKIT_FAULTS=ci` (`npm run test:faults:ci`,
 * what `.ci/run` runs).
 */
export const CI_PROFILE = process.env.SESSIONKIT_FAULTS === 'ci'

/** The full list, or only the entries marked for CI. */
export function pick<T extends { readonly ci?: boolean }>(cases: readonly T[]): T[] {
  return CI_PROFILE ? cases.filter((c) => c.ci === true) : [...cases]
}

/** `full` in the nightly run, `ci` in the CI subset. */
export function duration(full: number, ci: number): number {
  return CI_PROFILE ? ci : full
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))
