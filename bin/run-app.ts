/**
 * Runs a CDK app's body and turns the expected failures (an invalid ddk.json, a plan beyond
 * a service limit) into a plain message and exit code 1, with no stack trace.
 */
export function runApp(body: () => void): void {
  try {
    body();
  } catch (e: any) {
    const message = e?.message ?? String(e);
    process.stderr.write(`\n${message.trimEnd()}\n\n`);
    if (process.env.DDK_DEBUG) process.stderr.write(`${e?.stack ?? ''}\n`);
    // Exit now: under the CDK CLI, aws-cdk-lib would otherwise synthesize the half-built app on exit.
    process.exit(1);
  }
}
