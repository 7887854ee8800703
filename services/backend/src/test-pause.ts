/**
 * Fault tests kill a process at exact points (inside a setup phase, between the setup record and
 * the selection file, in a stage of a move) instead of racing it. With `<variable>=<point>` the
 * process prints `Paused at <point>` there and waits for good (a timer keeps a command-line process
 * from simply exiting); unset, as in production, this returns at once.
 */
export async function pauseForTests(point: string, variable = 'GROUNDWORK_TEST_PAUSE_AT'): Promise<void> {
  if (process.env[variable] !== point) return;
  console.log(`Paused at ${point} (${variable} is set: for tests only)`);
  await new Promise<never>(() => setInterval(() => {}, 60_000));
}
