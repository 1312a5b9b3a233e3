import * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import * as iam from 'aws-cdk-lib/aws-iam';

/**
 * The IAM service prefix of a CodeConnections connection ARN: `codeconnections` for
 * `arn:<partition>:codeconnections:…` (connections created since July 2024) and
 * `codestar-connections` for `arn:<partition>:codestar-connections:…`. IAM requires a statement's
 * action prefix to match the resource's ("Connections rename - Summary of changes").
 *
 * @throws when the ARN is neither
 */
export function connectionServicePrefix(connectionArn: string): 'codeconnections' | 'codestar-connections' {
  const service = connectionArn.split(':')[2];
  if (service === 'codeconnections' || service === 'codestar-connections') return service;
  throw new Error(`connection ARN "${connectionArn}" is neither a codeconnections nor a codestar-connections ARN. Fix: copy the connection's ARN from the Developer Tools console (Settings → Connections)`);
}

/**
 * Lets the role of every CodeStarSourceConnection action of `pipeline` use its connection with
 * the action prefix of the connection's ARN. aws-cdk-lib grants only
 * `codestar-connections:UseConnection`, which does not apply to a `codeconnections` ARN, so the
 * Source action of such a pipeline would be denied.
 */
export function grantConnectionUse(pipeline: codepipeline.Pipeline, connectionArn: string): void {
  const prefix = connectionServicePrefix(connectionArn);
  if (prefix === 'codestar-connections') return;
  for (const stage of pipeline.stages) {
    for (const action of stage.actions) {
      if (action.actionProperties.provider !== 'CodeStarSourceConnection') continue;
      // codepipeline.Pipeline creates each action's role at <pipeline>/<stage>/<action>/CodePipelineActionRole.
      const role = action.actionProperties.role
        ?? pipeline.node.tryFindChild(stage.stageName)?.node.tryFindChild(action.actionProperties.actionName)?.node.tryFindChild('CodePipelineActionRole') as iam.IRole | undefined;
      if (!role) {
        throw new Error(`${pipeline.node.path}: no role found for source action "${action.actionProperties.actionName}" to grant ${prefix}:UseConnection; expected aws-cdk-lib's action role at <pipeline>/<stage>/<action>/CodePipelineActionRole. Fix: pass the action a role of your own (its \`role\` prop), or report this as a bug of ddk-pipelines with your aws-cdk-lib version`);
      }
      role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: [`${prefix}:UseConnection`], resources: [connectionArn] }));
    }
  }
}
