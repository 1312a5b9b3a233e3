#!/usr/bin/env python3
"""Checks the README's Python example against the generated Python bindings, offline.

Usage: check_example.py README.md dist-pkg/python/src/ddk_pipelines/__init__.py

The bindings (jsii-pacmak --target python --code-only) cannot be imported here: they need the
`jsii` runtime and aws-cdk-lib's Python package from PyPI. So both files are read as syntax
trees, and the example must:
  - compile (Python 3 syntax);
  - import from `ddk_pipelines` only names the module exports (`__all__`);
  - call, on those classes and on values whose type the bindings declare (a method's return
    annotation, an annotated parameter), only methods and properties the generated classes
    (or their bases in the module) define, with keyword arguments those methods accept and no
    more positional arguments than they take;
  - in a class marked `@jsii.implements(I)`, define every method of the interface `I` with its
    number of parameters.
Names from other modules (aws_cdk, cdk_nag) are not checked. Exits 1 listing every finding,
each with the README line.
"""
import ast
import re
import sys

SECTION = '## Using the constructs in your own CDK app'
MODULE = 'ddk_pipelines'


def python_block(readme_path):
    """The one ```python block of the consumer section, and the README line it starts on."""
    text = open(readme_path, encoding='utf-8').read()
    start = text.find(SECTION + '\n')
    if start < 0:
        sys.exit(f'{readme_path}: no section "{SECTION}"')
    end = text.find('\n## ', start + 1)
    section = text[start:end if end >= 0 else len(text)]
    blocks = list(re.finditer(r'^```python\n(.*?)^```$', section, re.S | re.M))
    if len(blocks) != 1:
        sys.exit(f'{readme_path}: "{SECTION}" has {len(blocks)} python blocks, expected 1')
    first_line = text[:start + blocks[0].start(1)].count('\n') + 1
    return blocks[0].group(1), first_line


class Method:
    """A generated method, property or constructor: its positional and keyword parameters."""

    def __init__(self, fn):
        args = fn.args
        positional = [a.arg for a in args.posonlyargs + args.args]
        if positional and positional[0] in ('self', 'cls'):
            positional = positional[1:]
        self.name = fn.name
        self.positional = positional
        self.keywords = set(positional) | {a.arg for a in args.kwonlyargs}
        self.var_keywords = args.kwarg is not None
        self.is_property = any(_decorator_name(d) in ('builtins.property', 'property') for d in fn.decorator_list)
        self.returns = _type_name(fn.returns)


def _decorator_name(node):
    target = node.func if isinstance(node, ast.Call) else node
    return ast.unparse(target)


def _type_name(annotation):
    """The class a return or parameter annotation names: `"DeliveryPlan"`, `DeliveryPlan`, `typing.Optional["X"]`."""
    if annotation is None:
        return None
    if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
        return _type_name(ast.parse(annotation.value, mode='eval').body)
    if isinstance(annotation, ast.Name):
        return annotation.id
    if isinstance(annotation, ast.Subscript) and ast.unparse(annotation.value) == 'typing.Optional':
        return _type_name(annotation.slice)
    return None


class Bindings:
    """The generated module: exported names, and each class's members."""

    def __init__(self, path):
        tree = ast.parse(open(path, encoding='utf-8').read(), path)
        self.exported = set()
        self.classes = {}
        for node in tree.body:
            if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == '__all__' for t in node.targets):
                self.exported = {e.value for e in node.value.elts}
            if isinstance(node, ast.ClassDef):
                members = {}
                for item in node.body:
                    if isinstance(item, ast.FunctionDef):
                        members[item.name] = Method(item)
                bases = [ast.unparse(b) for b in node.bases]
                self.classes[node.name] = {'members': members, 'bases': bases}
        if not self.exported:
            sys.exit(f'{path}: no __all__: not jsii-pacmak output?')

    def member(self, cls, name):
        seen = set()
        while cls in self.classes and cls not in seen:
            seen.add(cls)
            found = self.classes[cls]['members'].get(name)
            if found:
                return found
            local = [b for b in self.classes[cls]['bases'] if b in self.classes]
            cls = local[0] if local else None
        return None

    def interface_methods(self, name):
        return [m for m in self.classes.get(name, {'members': {}})['members'].values() if not m.name.startswith('_')]


class Checker(ast.NodeVisitor):
    def __init__(self, bindings, first_line):
        self.b = bindings
        self.first_line = first_line
        self.imported = {}  # local name -> class name in the bindings
        self.types = {}  # variable -> class name in the bindings
        self.findings = []
        self.checked = 0

    def fail(self, node, message):
        self.findings.append(f'README.md:{self.first_line + node.lineno - 1}: {message}')

    # ---- names and types
    def visit_ImportFrom(self, node):
        if node.module == MODULE:
            for alias in node.names:
                self.checked += 1
                if alias.name not in self.b.exported:
                    self.fail(node, f'{MODULE} exports no "{alias.name}"')
                else:
                    self.imported[alias.asname or alias.name] = alias.name

    def type_of(self, node):
        """The bindings class of an expression's value, when the bindings declare it."""
        if isinstance(node, ast.Name):
            return self.types.get(node.id)
        if isinstance(node, ast.Call):
            if isinstance(node.func, ast.Name) and node.func.id in self.imported:
                return self.imported[node.func.id]
            method = self.resolve(node.func)
            return method.returns if method and method.returns in self.b.classes else None
        if isinstance(node, ast.Attribute):
            method = self.resolve(node)
            return method.returns if method and method.is_property and method.returns in self.b.classes else None
        return None

    def owner(self, node):
        """(class, static?) of the value left of a dot, when it is a bindings class or instance."""
        if isinstance(node, ast.Name) and node.id in self.imported:
            return self.imported[node.id], True
        t = self.type_of(node)
        return (t, False) if t else (None, False)

    def resolve(self, attribute):
        if not isinstance(attribute, ast.Attribute):
            return None
        cls, _ = self.owner(attribute.value)
        return self.b.member(cls, attribute.attr) if cls else None

    # ---- statements
    def visit_Assign(self, node):
        self.generic_visit(node)
        t = self.type_of(node.value)
        for target in node.targets:
            if isinstance(target, ast.Name):
                if t:
                    self.types[target.id] = t
                else:
                    self.types.pop(target.id, None)

    def visit_FunctionDef(self, node):
        for a in node.args.args + node.args.kwonlyargs:
            t = _type_name(a.annotation)
            if t in self.imported:
                self.types[a.arg] = self.imported[t]
        self.generic_visit(node)

    def visit_ClassDef(self, node):
        for d in node.decorator_list:
            if isinstance(d, ast.Call) and _decorator_name(d) == 'jsii.implements':
                for arg in d.args:
                    if isinstance(arg, ast.Name) and arg.id in self.imported:
                        self.check_implements(node, self.imported[arg.id])
        self.generic_visit(node)

    def check_implements(self, node, interface):
        defined = {f.name: f for f in node.body if isinstance(f, ast.FunctionDef)}
        required = self.b.interface_methods(interface)
        if not required:
            self.fail(node, f'{MODULE}.{interface} has no methods: not an interface?')
        for m in required:
            self.checked += 1
            if m.is_property:
                continue
            if m.name not in defined:
                self.fail(node, f'class {node.name} implements {interface} but has no method "{m.name}"')
                continue
            got = len(Method(defined[m.name]).positional)
            if got != len(m.positional):
                self.fail(defined[m.name], f'{node.name}.{m.name} takes {got} parameters; {interface}.{m.name} passes {len(m.positional)} ({", ".join(m.positional)})')

    # ---- uses
    def visit_Attribute(self, node):
        cls, static = self.owner(node.value)
        if cls:
            self.checked += 1
            if not self.b.member(cls, node.attr):
                self.fail(node, f'{MODULE}.{cls} has no method or property "{node.attr}"{"" if static else " (on an instance)"}')
        self.generic_visit(node)

    def visit_Call(self, node):
        self.generic_visit(node)
        if isinstance(node.func, ast.Name) and node.func.id in self.imported:
            cls = self.imported[node.func.id]
            method, what = self.b.member(cls, '__init__'), f'{cls}(...)'
            if method is None:
                self.fail(node, f'{MODULE}.{cls} cannot be constructed (no __init__)')
                return
        else:
            method = self.resolve(node.func)
            if method is None:
                return
            what = f'{self.owner(node.func.value)[0]}.{method.name}(...)'
            if method.is_property:
                self.fail(node, f'{what}: "{method.name}" is a property, not a method')
                return
        self.checked += 1
        if len(node.args) > len(method.positional) and not any(isinstance(a, ast.Starred) for a in node.args):
            self.fail(node, f'{what} takes {len(method.positional)} positional arguments ({", ".join(method.positional)}), got {len(node.args)}')
        for kw in node.keywords:
            if kw.arg is not None and kw.arg not in method.keywords and not method.var_keywords:
                self.fail(node, f'{what} has no keyword argument "{kw.arg}" (it takes: {", ".join(sorted(method.keywords)) or "none"})')


def main(argv):
    if len(argv) != 3:
        sys.exit(__doc__)
    source, first_line = python_block(argv[1])
    try:
        tree = ast.parse(source, 'README.md')
        compile(tree, 'README.md', 'exec')
    except SyntaxError as e:
        sys.exit(f'README.md:{first_line + (e.lineno or 1) - 1}: the Python example does not compile: {e.msg}')
    checker = Checker(Bindings(argv[2]), first_line)
    checker.visit(tree)
    if not checker.imported:
        checker.findings.append(f'README.md:{first_line}: the Python example imports nothing from {MODULE}')
    if checker.findings:
        print(f'The README\'s Python example does not match the generated bindings ({argv[2]}):', file=sys.stderr)
        for f in checker.findings:
            print(f'  {f}', file=sys.stderr)
        return 1
    print(f'README.md Python example: compiles; {checker.checked} uses of {len(checker.imported)} {MODULE} names match the generated bindings')
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
