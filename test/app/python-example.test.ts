import { spawnSync } from 'child_process';
import { mkdtempSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { ROOT } from '../helpers';

/*
 * test/python/check_example.py holds the README's Python example against the Python bindings
 * jsii-pacmak generates (`npm run build` runs it on the real ones, in dist-pkg/python). Here it
 * runs on a module written the way jsii-pacmak writes one, so that each kind of mistake it must
 * catch is shown to be caught.
 */
const BINDINGS = `
import abc
import builtins
import typing
import jsii
import typing_extensions
import aws_cdk as _aws_cdk_ceddda9d


class DdkAppConfig(metaclass=jsii.JSIIMeta, jsii_type="ddk-pipelines.DdkAppConfig"):
    @jsii.member(jsii_name="load")
    @builtins.classmethod
    def load(cls, scope: "_constructs_77d1e7e8.IConstruct") -> "DdkConfig":
        return typing.cast("DdkConfig", jsii.sinvoke(cls, "load", [scope]))


class DdkConfig(metaclass=jsii.JSIIMeta, jsii_type="ddk-pipelines.DdkConfig"):
    @builtins.property
    @jsii.member(jsii_name="file")
    def file(self) -> builtins.str:
        return typing.cast(builtins.str, jsii.get(self, "file"))


class DeliveryPlan(metaclass=jsii.JSIIMeta, jsii_type="ddk-pipelines.DeliveryPlan"):
    @jsii.member(jsii_name="fromConfig")
    @builtins.classmethod
    def from_config(cls, config: "DdkConfig", *, default_name: typing.Optional[builtins.str] = None, recorded_name: typing.Optional[builtins.str] = None) -> "DeliveryPlan":
        ...

    @builtins.property
    @jsii.member(jsii_name="cicdStackName")
    def cicd_stack_name(self) -> builtins.str:
        ...

    @builtins.property
    @jsii.member(jsii_name="config")
    def config(self) -> DdkConfig:
        ...


class PipelineStack(_aws_cdk_ceddda9d.Stack, metaclass=jsii.JSIIMeta, jsii_type="ddk-pipelines.PipelineStack"):
    def __init__(self, scope: "_constructs_77d1e7e8.Construct", id: builtins.str, *, plan: DeliveryPlan, application: "IApplicationFactory", description: typing.Optional[builtins.str] = None) -> None:
        ...


class EnvironmentResources(metaclass=jsii.JSIIMeta, jsii_type="ddk-pipelines.EnvironmentResources"):
    @jsii.member(jsii_name="of")
    @builtins.classmethod
    def of(cls, scope: "_constructs_77d1e7e8.IConstruct") -> "EnvironmentResources":
        ...

    @jsii.member(jsii_name="propsSnakeCase")
    def props_snake_case(self, construct_id: builtins.str) -> typing.Mapping[builtins.str, typing.Any]:
        ...


@jsii.interface(jsii_type="ddk-pipelines.IApplicationFactory")
class IApplicationFactory(typing_extensions.Protocol):
    @jsii.member(jsii_name="createApplication")
    def create_application(self, stage: "_aws_cdk_ceddda9d.Stage", environment: "EnvironmentConfig") -> None:
        ...


__all__ = ["DdkAppConfig", "DdkConfig", "DeliveryPlan", "PipelineStack", "EnvironmentResources", "IApplicationFactory"]
`;

const GOOD = `import os

import jsii
from aws_cdk import App, Stack
from ddk_pipelines import DdkAppConfig, DeliveryPlan, EnvironmentResources, IApplicationFactory, PipelineStack


@jsii.implements(IApplicationFactory)
class Data:
    def create_application(self, stage, environment) -> None:
        stack = Stack(stage, "Data")
        resources = EnvironmentResources.of(stack)
        print(resources.props_snake_case("ddk-bucket"))


app = App()
plan = DeliveryPlan.from_config(DdkAppConfig.load(app), recorded_name=os.environ.get("DDK_PIPELINE_NAME"))
print(plan.config.file)
PipelineStack(app, plan.cicd_stack_name, plan=plan, application=Data())
app.synth()
`;

function check(example: string): { status: number | null; out: string } {
  const dir = mkdtempSync(join(tmpdir(), 'ddk-py-example-'));
  writeFileSync(join(dir, 'README.md'), `# x\n\nintro\n\n## Using the constructs in your own CDK app\n\n\`\`\`python\n${example}\`\`\`\n\n## Next\n`);
  writeFileSync(join(dir, 'bindings.py'), BINDINGS);
  const r = spawnSync('python3', [join(ROOT, 'test', 'python', 'check_example.py'), join(dir, 'README.md'), join(dir, 'bindings.py')], { encoding: 'utf-8' });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

test('an example that uses only what the bindings define passes', () => {
  const r = check(GOOD);
  expect(r.out).toContain('README.md Python example: compiles;');
  expect(r.status).toBe(0);
});

test.each([
  ['a name the module does not export', GOOD.replace('IApplicationFactory, PipelineStack', 'IApplicationFactory, PipelineStack, DdkApp'), 'README.md:12: ddk_pipelines exports no "DdkApp"'],
  ['a misspelled static method', GOOD.replace('DeliveryPlan.from_config(', 'DeliveryPlan.fromConfig('), 'README.md:24: ddk_pipelines.DeliveryPlan has no method or property "fromConfig"'],
  ['a camelCase method on an instance (through a variable)', GOOD.replace('resources.props_snake_case(', 'resources.propsSnakeCase('), 'README.md:20: ddk_pipelines.EnvironmentResources has no method or property "propsSnakeCase" (on an instance)'],
  ['a property of a property\'s value', GOOD.replace('plan.config.file', 'plan.config.path'), 'README.md:25: ddk_pipelines.DdkConfig has no method or property "path" (on an instance)'],
  ['a keyword argument a method does not take', GOOD.replace('recorded_name=', 'recordedName='), 'README.md:24: DeliveryPlan.from_config(...) has no keyword argument "recordedName" (it takes: config, default_name, recorded_name)'],
  ['a keyword argument a constructor does not take', GOOD.replace('application=Data()', 'app=Data()'), 'README.md:26: PipelineStack(...) has no keyword argument "app"'],
  ['too many positional arguments', GOOD.replace('plan.cicd_stack_name, plan=plan', 'plan.cicd_stack_name, plan, plan=plan'), 'README.md:26: PipelineStack(...) takes 2 positional arguments (scope, id), got 3'],
  ['an interface method missing', GOOD.replace('def create_application(', 'def createApplication('), 'README.md:16: class Data implements IApplicationFactory but has no method "create_application"'],
  ['an interface method with the wrong parameters', GOOD.replace('(self, stage, environment)', '(self, stage)'), 'README.md:17: Data.create_application takes 1 parameters; IApplicationFactory.create_application passes 2 (stage, environment)'],
  ['a syntax error', GOOD.replace('app = App()', 'app = App('), 'the Python example does not compile'],
])('%s is reported with its README line', (_, example, message) => {
  const r = check(example);
  expect(r.out).toContain(message);
  expect(r.status).toBe(1);
});
