/**
 * Runs a command's main function when its file is the one Node was started with (not when it is
 * imported, as the tests import the bench and the chaos run): its result is the exit code, and a
 * throw prints the error and exits 1.
 */
export function runWhenMain(moduleUrl: string, main: () => Promise<number>): void {
  if (moduleUrl !== `file://${process.argv[1]}`) return
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(error)
      process.exit(1)
    }
  )
}
