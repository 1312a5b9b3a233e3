#!/usr/bin/env bash
# The deployment test of a gated pipeline, in your own AWS account (README: "Verify on your own
# account"). Deploys test/integ/integ.gated-pipeline.ts with the project's pinned CDK CLI into the
# account and region of your credentials: the CICD stack ddk-integ-gate-pipeline, then the
# assertion stack ddk-integ-gate-assertions, whose custom resources run the assertions while
# CloudFormation creates it (a failed assertion fails that deployment and names what it expected).
# Then it always destroys both stacks. Exit status 0: every assertion held and both stacks are gone.
#
# Not integ-runner: no published @aws-cdk/integ-runner reads the cloud-assembly schema of
# aws-cdk-lib 2.276 (55) yet; the newest, 2.197.10, reads up to 53. It would run the same app.
set -uo pipefail
cd "$(dirname "$0")/../.."

app='npx ts-node --transpile-only test/integ/integ.gated-pipeline.ts'
out='test/integ/cdk.out'

npx cdk deploy --app "$app" --output "$out" --all --require-approval never --progress events
deployed=$?
npx cdk destroy --app "$app" --output "$out" --all --force
destroyed=$?

if [ "$deployed" -ne 0 ]; then
  echo "Deployment test FAILED: see the output above (a failed assertion is a failed resource of ddk-integ-gate-assertions; its reason shows what was expected and what the API returned)." >&2
fi
if [ "$destroyed" -ne 0 ]; then
  echo "Teardown FAILED: if the stacks ddk-integ-gate-assertions and ddk-integ-gate-pipeline exist in that account and region, delete them (assertions first) in the CloudFormation console." >&2
fi
if [ "$deployed" -eq 0 ] && [ "$destroyed" -eq 0 ]; then
  echo "Deployment test passed: the gate failed the stage on a failed check and let it in on a passed one; both stacks are deleted."
  exit 0
fi
exit 1
