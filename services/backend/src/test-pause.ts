/**
 * Fault tests kill the process at exact points (inside a setup phase, between the setup record and
 * the selection file) instead of racing it. With GROUNDWORK_TEST_PAUSE_AT=<point> the process prints
 * `Paused at <point>` there and waits forever; unset, as in production, this returns at once.
 */
export async function pauseForTests(point: string): Promise<void> {
  if (process.env.GROUNDWORK_TEST_PAUSE_AT !== point) return;
  console.log(`Paused at ${point} (GROUNDWORK_TEST_PAUSE_AT is set: for tests only)`);
  await new Promise<never>(() => {});
}
