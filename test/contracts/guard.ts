import { readdirSync, readFileSync } from 'fs';
import { dirname, join } from 'path';
import { CfnGuardValidator } from '@cdklabs/cdk-validator-cfnguard';
import { Finding } from './findings';
import { GUARD_EXEMPTIONS, GuardExemption } from './guard-exemptions';
import type { StackTemplate } from './synthesize';

/*
 * AWS Control Tower's proactive controls (CloudFormation Guard rules, as bundled by
 * @cdklabs/cdk-validator-cfnguard) over synthesized templates. The rules that do not apply to
 * this project are listed, each with its reason, in guard-exemptions.ts; an exemption may be
 * limited to some resources, and every other violation is a finding.
 */

/** A violation the guard rules report. */
export interface GuardViolation {
  /** The rule file's id, e.g. `ct-s3-pr-2`. */
  readonly rule: string;
  /** The guard rule's name inside the file. */
  readonly ruleName: string;
  readonly description: string;
  readonly templatePath: string;
  readonly logicalId: string;
}

/** `CT.S3.PR.2`-style control id of a rule file id (`ct-s3-pr-2`). */
export function controlId(rule: string): string {
  return rule.toUpperCase().replace(/-/g, '.');
}

interface RuleFile {
  /** Rule file id, e.g. `ct-s3-pr-2`. */
  readonly id: string;
  readonly path: string;
  /** The CloudFormation types the rule reports on (its header's "Reports on"). */
  readonly types: Set<string>;
  /** The guard rule names the file defines. */
  readonly ruleNames: string[];
}

let ruleIndex: RuleFile[] | undefined;
/** Every bundled Control Tower rule file, with the types it evaluates. */
export function bundledRules(): RuleFile[] {
  if (!ruleIndex) {
    const root = join(dirname(require.resolve('@cdklabs/cdk-validator-cfnguard/package.json')), 'rules/control-tower/cfn-guard');
    ruleIndex = readdirSync(root).flatMap(dir => readdirSync(join(root, dir)).map(file => {
      const path = join(root, dir, file);
      const text = readFileSync(path, 'utf-8');
      return {
        id: file.replace(/\.guard$/, ''),
        path,
        types: reportsOn(text),
        ruleNames: [...text.matchAll(/^rule\s+([A-Za-z0-9_]+)/gm)].map(m => m[1]),
      };
    }));
  }
  return ruleIndex;
}

/** The types a rule file's header says it reports on (every type it names, when it has no such header). */
function reportsOn(text: string): Set<string> {
  const header = /^#\s*Reports on:\s*\n#\s*(.+)$/m.exec(text);
  const source = header ? header[1] : text;
  return new Set([...source.matchAll(/AWS::[A-Za-z0-9]+::[A-Za-z0-9]+/g)].map(m => m[0]));
}

/**
 * Runs the bundled Control Tower rules over template files: every rule that reports on a type the
 * templates declare (the others would only SKIP) and that is not exempt for every resource.
 */
export function runGuard(templatePaths: string[], exemptions: Record<string, GuardExemption> = GUARD_EXEMPTIONS): GuardViolation[] {
  const present = new Set<string>();
  for (const p of templatePaths) {
    for (const r of Object.values<any>(JSON.parse(readFileSync(p, 'utf-8')).Resources ?? {})) present.add(r.Type);
  }
  const rules = bundledRules().filter(r => [...r.types].some(t => present.has(t)) && !(exemptions[r.id] && exemptions[r.id].only === undefined));
  if (rules.length === 0) return [];
  const fileOf = new Map(rules.flatMap(r => r.ruleNames.map(n => [n, r.id] as const)));
  const validator = new CfnGuardValidator({ controlTowerRulesEnabled: false, rules: rules.map(r => r.path), maxBuffer: 256 * 1024 * 1024 });
  const report = validator.validate({ templatePaths } as any);
  return report.violations.flatMap(v => v.violatingResources.map(r => ({
    rule: fileOf.get(v.ruleName) ?? v.ruleName,
    ruleName: v.ruleName,
    description: v.description,
    templatePath: r.templatePath,
    logicalId: r.resourceLogicalId,
  })));
}

/** Guard violations of an output's templates that no exemption covers, as findings. */
export function checkGuardRules(stacks: StackTemplate[], exemptions: Record<string, GuardExemption> = GUARD_EXEMPTIONS): Finding[] {
  const byPath = new Map(stacks.map(s => [s.templateFile, s]));
  const findings: Finding[] = [];
  const violations = runGuard(stacks.map(s => s.templateFile), exemptions);
  // cfn-guard also reports some rules once at the template level (no resource): keep that only
  // when the rule named no resource of the template
  const located = new Set(violations.filter(v => v.logicalId).map(v => `${v.rule} ${v.templatePath}`));
  for (const v of violations.filter(x => x.logicalId || !located.has(`${x.rule} ${x.templatePath}`))) {
    const stack = byPath.get(v.templatePath);
    const resource = stack?.template?.Resources?.[v.logicalId];
    const exemption = exemptions[v.rule];
    if (exemption && (!exemption.only || (resource && exemption.only.matches(v.logicalId, resource, stack!)))) continue;
    findings.push({
      contract: `guard.${v.rule}`,
      stack: stack?.displayName ?? v.templatePath,
      where: v.logicalId ?? '(template)',
      message: `${controlId(v.rule)} (${v.ruleName}): ${v.description}`,
      templateFile: v.templatePath,
    });
  }
  return findings;
}
