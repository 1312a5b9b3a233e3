import { exampleDdkJson, render } from '../helpers';

/*
 * The shape of the rendered pipelines of the example ddk.json, per strategy: stages, actions,
 * categories and run orders (no logical ids or asset hashes, so the snapshot changes only when the
 * delivery structure does). `jest --ci` never rewrites it: update it deliberately with `npx jest -u`.
 */
test.each(['cdk-pipelines', 'codepipeline-trunk', 'codepipeline-gitflow'])('%s pipeline structure', strategy => {
  const doc = exampleDdkJson();
  doc.pipeline.strategy = strategy;
  const { template } = render(doc);
  const pipelines = Object.values(template.findResources('AWS::CodePipeline::Pipeline')) as any[];
  const shape = pipelines.map(p => ({
    name: p.Properties.Name,
    type: p.Properties.PipelineType,
    mode: p.Properties.ExecutionMode,
    stages: p.Properties.Stages.map((s: any) => ({
      name: s.Name,
      actions: s.Actions.map((a: any) => `${a.RunOrder ?? 1} ${a.ActionTypeId.Category}/${a.ActionTypeId.Provider} ${typeof a.Name === 'string' ? a.Name : '(repository name)'}`),
    })),
  }));
  expect(shape).toMatchSnapshot();
});
