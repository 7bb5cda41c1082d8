//! Differential tests: each case is a list of doctest examples run in one
//! namespace by CPython (`python3`, compiled in "single" mode like doctest) and by
//! our interpreter; the captured output and `Type: message` of escaping
//! exceptions must be identical.

use harness::script::Interpreter;
use std::io::Write;
use std::process::{Command, Stdio};

const DRIVER: &str = r#"
import sys, json, io, contextlib
examples = json.loads(sys.stdin.read())
g = {'__name__': '__main__'}
out = []
for i, src in enumerate(examples):
    buf = io.StringIO()
    exc = None
    with contextlib.redirect_stdout(buf):
        try:
            exec(compile(src, '<doctest t[%d]>' % i, 'single'), g)
        except BaseException as e:
            exc = e
    s = buf.getvalue()
    if exc is not None:
        t = type(exc)
        name = t.__qualname__
        if t.__module__ not in ('builtins', '__main__'):
            name = t.__module__ + '.' + name
        msg = str(exc)
        s += name + (': ' + msg if msg else '')
    out.append(s)
print(json.dumps(out))
"#;

fn python(examples: &[String]) -> Option<Vec<String>> {
    let mut child = Command::new("python3")
        .args(["-c", DRIVER])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .ok()?;
    child
        .stdin
        .take()?
        .write_all(serde_json::to_string(examples).ok()?.as_bytes())
        .ok()?;
    let out = child.wait_with_output().ok()?;
    serde_json::from_slice(&out.stdout).ok()
}

fn ours(examples: &[String]) -> Vec<String> {
    let mut it = Interpreter::new();
    examples
        .iter()
        .enumerate()
        .map(
            |(i, src)| match it.run_example(src, &format!("<doctest t[{i}]>")) {
                Ok(o) => {
                    let mut s = o.output;
                    if let Some(r) = o.exception {
                        s.push_str(&r.type_name);
                        if !r.message.is_empty() {
                            s.push_str(": ");
                            s.push_str(&r.message);
                        }
                    }
                    s
                }
                Err(e) => format!("ScriptError line {}: {}", e.line, e.message),
            },
        )
        .collect()
}

/// Splits a case into examples: each `>>> ` line starts one; `... ` continues it.
fn examples(case: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for line in case.lines() {
        if let Some(src) = line.strip_prefix(">>> ") {
            out.push(format!("{src}\n"));
        } else if let Some(src) = line.strip_prefix("... ").or(line.strip_prefix("...")) {
            if let Some(last) = out.last_mut() {
                last.push_str(src);
                last.push('\n');
            }
        }
    }
    out
}

pub fn check(cases: &[&str]) {
    let mut failures = Vec::new();
    for case in cases {
        let ex = examples(case);
        if Command::new("python3").arg("-V").output().is_err() {
            eprintln!("python3 unavailable: skipping differential check");
            return;
        }
        let expected = python(&ex).expect("the CPython driver must produce JSON");
        let got = ours(&ex);
        assert_eq!(expected.len(), ex.len(), "CPython driver lost examples");
        if std::env::var_os("SCRIPT_DIFF_SHOW").is_some() {
            for (src, g) in ex.iter().zip(&got) {
                eprint!(">>> {src}{g}");
            }
        }
        for (i, (e, g)) in expected.iter().zip(&got).enumerate() {
            if e != g {
                failures.push(format!(
                    "--- example:\n{}--- CPython:\n{e}\n--- ours:\n{g}\n",
                    ex[i]
                ));
            }
        }
    }
    if !failures.is_empty() {
        panic!("{} mismatches:\n{}", failures.len(), failures.join("\n"));
    }
}

#[test]
fn seed_constructs() {
    check(&[r#"
>>> import sys; cluster = 'pgsql://:5433/mart' if hasattr(sys, 'MART_MULTICLUSTER_TEST') else None
>>> cluster is None
>>> print(cluster)
>>> class Job:
...     def __init__(self, code, status, detail, start):
...         self.code = code; self.status = status; self.status_detail = detail
...         self.type = 'rexmart_create'; self.date_submitted = 1; self.date_started = start; self.date_completed = start
...         self.facet = None
>>> def show_job(job):
...     if not job:
...         print('Job #%s Not Found' % (job,))
...     else:
...         print('Job #%s: status=%s,%s type=%s, dates=%s, facet=%s' % (
...             job.code,
...             job.status,
...             (' detail="%s",' % (job.status_detail,)) if job.status_detail else '',
...             job.type,
...             ','.join([x for x in [job.date_submitted and 'Submitted', job.date_started and 'Started', job.date_completed and 'Completed'] if x]),
...             job.facet.log if job.facet else None,
...         ))
>>> show_job(Job(1, 'new', None, None))
>>> show_job(Job(2, 'failed', 'Got unexpected field:\n    bad', 5))
>>> show_job(None)
>>> def run_job(n):
...     code = int(str(n))
...     show_job(Job(code, 'x', '', 0))
>>> run_job(3)
>>> MartCreateWorker = object
>>> MartCreateWorker is None
"#]);
}

#[test]
fn reprs_and_literals() {
    check(&[r#"
>>> 1, 2.5, -0.0, 1e16, 1.5e-5, 0.1 + 0.2, 10 / 4, 7 // 2, -7 // 2, -7 % 3, 2 ** 10, 2 ** -1
>>> 'a', "it's", 'say "hi"', 'both \' and "', 'tab\there', u'x', r'\d+', b'ab\x00'
>>> [1, [2, (3,)], {'a': None}, {1, 2}, set(), (), True, False]
>>> {'b': 1, 'a': 2, 3: [4]}
>>> 'multi\nline'
>>> print('multi\nline', 1, None, [None], sep='|', end='!\n')
>>> None
>>> x = 5
>>> x
>>> '''triple
... quoted'''
>>> 0x1f, 0o17, 0b101, 1_000_000
>>> range(5), range(1, 10, 2), list(range(10, 0, -3))
>>> 3 > 2 > 1, 1 < 2 > 3, 1 == 1.0, 'a' < 'b', [1, 2] < [1, 3], (1, 2) == (1, 2)
>>> not 1, 1 and 2, 0 or 'x', None or [] or 0
>>> 1 if 0 else 2
"#]);
}

#[test]
fn errors_match_cpython() {
    check(&[r#"
>>> undefined_name
>>> 1 + 'a'
>>> 'a' + 1
>>> [1] + (1,)
>>> {}['x']
>>> {}[('a', 1)]
>>> (5).foo
>>> 1 / 0
>>> 1 // 0
>>> 1 % 0
>>> 1.0 / 0
>>> [][0]
>>> ()[1]
>>> ''[2]
>>> int('abc')
>>> float('x')
>>> int(None)
>>> len(5)
>>> 1 < 'a'
>>> None()
>>> hash([])
>>> {[]: 1}
>>> -'a'
>>> 'a' * 'b'
>>> [1, 2].index(5)
>>> 'abc'.index('z')
>>> [].pop()
>>> {}.pop(1)
>>> iter(5)
>>> next(iter([]))
>>> sorted([1, 'a'])
>>> min([])
>>> (lambda a: 1)()
>>> (lambda a: 1)(1, 2)
>>> (lambda: 1)(b=2)
>>> def f(a, b=1, *, c): pass
>>> f()
>>> f(1, 2, 3)
>>> f(1)
>>> f(1, c=1, a=2)
>>> '%d' % 'a'
>>> '%s %s' % (1,)
>>> '%s' % (1, 2)
>>> 1 in 5
>>> 1 in 'a'
>>> object().x
>>> import sys; sys.nope
>>> import nosuchmodule
>>> from sys import nope
>>> raise ValueError('bad value')
>>> raise KeyError('k')
>>> raise Exception
>>> raise ValueError()
>>> raise ValueError(1, 2)
>>> assert 1 == 2
>>> assert False, 'message here'
>>> a, b = 1, 2, 3
>>> a, b, c = 1, 2
>>> a, b = 1
>>> x = 1; x.y = 2
>>> class A: pass
>>> A(1)
>>> A().missing
>>> A.missing
>>> def g():
...     return h()
>>> def h():
...     raise RuntimeError('deep')
>>> g()
>>> def u():
...     print(v)
...     v = 1
>>> u()
"#]);
}

#[test]
fn statements() {
    check(&[r#"
>>> for i in range(3):
...     if i == 1:
...         continue
...     print(i)
... else:
...     print('done')
>>> for i in range(3):
...     if i == 1: break
... else:
...     print('not printed')
>>> n = 0
>>> while n < 3:
...     n += 1
... else:
...     print('while else', n)
>>> for i in range(2): i
>>> try:
...     1 / 0
... except ZeroDivisionError as e:
...     print('caught', e)
... else:
...     print('no')
... finally:
...     print('finally')
>>> try:
...     {}['k']
... except (ValueError, LookupError) as e:
...     print(type(e).__name__, repr(e), e.args)
>>> try:
...     try:
...         raise ValueError('inner')
...     except ValueError:
...         raise
... except Exception as e:
...     print('outer', e)
>>> try:
...     raise ValueError('x') from KeyError('y')
... except ValueError as e:
...     print(repr(e.__cause__))
>>> def gen():
...     for i in range(3):
...         yield i * 2
>>> list(gen()), sum(gen())
>>> g = 1
>>> def setg():
...     global g
...     g = 2
>>> setg(); g
>>> def outer():
...     x = 1
...     def inner():
...         nonlocal x
...         x += 1
...         return x
...     return inner() + inner()
>>> outer()
>>> a, (b, c), *d = 1, (2, 3), 4, 5
>>> a, b, c, d
>>> first, *rest = 'abc'
>>> first, rest
>>> l = [1, 2, 3, 4, 5]
>>> del l[1]; l
>>> del l[1:3]; l
>>> l[0] = 9; l[-1] += 1; l
>>> l[1:1] = [7, 8]; l
>>> d = {'a': 1}
>>> d['b'] = 2; del d['a']; d
>>> x = y = 3; x, y
>>> if 0:
...     pass
... elif 1:
...     print('elif')
>>> with open('nonexistent-file.txt') as f:
...     pass
"#]);
}

#[test]
fn functions_and_classes() {
    check(&[r#"
>>> def f(a, b=2, *args, c=3, **kw):
...     return a, b, args, c, kw
>>> f(1), f(1, 5, 6, 7, c=8, d=9), f(*[1, 2], **{'c': 0})
>>> f.__name__
>>> g = lambda x, y=1: x + y
>>> g(1), g(1, y=5), (lambda: 'k')()
>>> def make_adder(n):
...     def add(x):
...         return x + n
...     return add
>>> make_adder(3)(4)
>>> class Base:
...     kind = 'base'
...     def __init__(self, name):
...         self.name = name
...     def hello(self):
...         return 'hello ' + self.name + ' from ' + self.kind
...     def __repr__(self):
...         return 'Base(%r)' % self.name
>>> class Child(Base):
...     kind = 'child'
...     def __init__(self, name, extra):
...         super().__init__(name)
...         self.extra = extra
...     def hello(self):
...         return super().hello() + '!'
...     def __str__(self):
...         return 'Child ' + self.name
...     def __eq__(self, other):
...         return isinstance(other, Child) and other.name == self.name
>>> b = Base('b'); c = Child('c', 1)
>>> b, b.hello(), c.hello(), str(c), c, [c], c == Child('c', 2), c != Child('d', 0)
>>> isinstance(c, Base), isinstance(b, Child), issubclass(Child, Base), type(c).__name__, Child.kind
>>> print(c)
>>> class Ctx:
...     def __enter__(self):
...         print('enter')
...         return self
...     def __exit__(self, t, v, tb):
...         print('exit', t.__name__ if t else None)
...         return True
>>> with Ctx() as x:
...     raise ValueError('swallowed')
>>> class MyError(Exception):
...     pass
>>> try:
...     raise MyError('custom')
... except Exception as e:
...     print(type(e).__name__, e)
>>> raise MyError('escapes')
>>> class P:
...     @property
...     def v(self):
...         return 42
...     @staticmethod
...     def s(x):
...         return x * 2
...     @classmethod
...     def c(cls):
...         return cls.__name__
>>> P().v, P.s(2), P().s(3), P.c(), P().c()
>>> hasattr(P(), 'v'), hasattr(P(), 'w'), getattr(P(), 'w', 'dflt')
>>> class Num:
...     def __init__(self, n): self.n = n
...     def __add__(self, o): return Num(self.n + o.n)
...     def __lt__(self, o): return self.n < o.n
...     def __len__(self): return self.n
...     def __getitem__(self, i): return i * self.n
...     def __contains__(self, x): return x == 1
...     def __call__(self, y): return y + self.n
>>> (Num(1) + Num(2)).n, Num(1) < Num(2), len(Num(3)), Num(2)[5], 1 in Num(0), Num(3)(4), bool(Num(0))
>>> sorted([Num(3), Num(1)])[0].n, max([Num(3), Num(5)], key=lambda n: n.n).n
"#]);
}

#[test]
fn builtins_and_methods() {
    check(&[r#"
>>> sorted([3, 1, 2], reverse=True), sorted('bca'), sorted({'b': 1, 'a': 2}.items(), key=lambda kv: kv[1])
>>> list(reversed([1, 2, 3])), list(enumerate('ab', 1)), list(zip([1, 2], 'ab', (True, False)))
>>> min(3, 1, 2), max([1, 5, 2]), sum([1, 2, 3]), sum([0.5, 0.25]), any([0, 1]), all([]), abs(-3), abs(-2.5)
>>> round(2.5), round(3.5), round(2.675, 2), round(1234, -2), divmod(7, 2), pow(2, 10), pow(2, 10, 1000)
>>> list(map(str, [1, 2])), list(filter(None, [0, 1, '', 'a'])), list(map(lambda a, b: a + b, [1, 2], [3, 4]))
>>> int('42'), int(' -7 '), int('ff', 16), int(3.9), float('1.5'), float(3), str(1.0), bool(''), bool([0])
>>> list('abc'), tuple([1]), dict(a=1, b=2), dict([('x', 1)]), set([1, 1, 2]), list({'a': 1})
>>> chr(65), ord('a'), hex(255), oct(8), bin(5), repr('x'), callable(len), callable(1)
>>> type(1), type('a'), type([]), type(None), type(len), isinstance(True, int), isinstance(1, (str, int))
>>> ','.join(['a', 'b']), 'a,b,,c'.split(','), '  a  b '.split(), 'a b c'.split(None, 1), 'a-b-c'.rsplit('-', 1)
>>> '  x  '.strip(), 'xxyxx'.strip('x'), ' a'.lstrip(), 'a '.rstrip(), 'abc'.startswith('ab'), 'abc'.endswith(('x', 'c'))
>>> 'aaa'.replace('a', 'b', 2), 'Hello'.upper(), 'Hello'.lower(), 'hello world'.title(), 'hello'.capitalize()
>>> 'abcabc'.find('c'), 'abcabc'.rfind('c'), 'abc'.find('z'), 'abcabc'.count('bc'), '12'.isdigit(), 'ab'.isalpha()
>>> 'x'.center(5, '*'), 'x'.ljust(3) + '|', 'x'.rjust(3), '42'.zfill(5), 'a=b=c'.partition('='), 'a=b=c'.rpartition('=')
>>> 'line1\nline2\r\nline3'.splitlines(), 'ab'.encode(), b'ab'.decode()
>>> l = [3, 1, 2]
>>> l.append(4); l.extend([5]); l.insert(0, 0); l
>>> l.pop(), l.pop(0), l.remove(1), l, l.index(2), l.count(3)
>>> l.sort(); l
>>> l.reverse(); l, l.copy(), l[::-1], l[1:], l[:-1], l[::2]
>>> d = {'a': 1, 'b': 2}
>>> d.keys(), d.values(), d.items(), d.get('z'), d.get('z', 0), d.setdefault('c', 3), d
>>> d.update({'a': 10}, e=5); d, d.pop('e'), d.popitem(), d
>>> 'a' in d, 'z' not in d, len(d), list(d.items())
>>> s = {1, 2}
>>> s.add(3); s.discard(9); s, s | {4}, s & {1, 9}, s - {1}, s ^ {1, 5}, {1} <= s
>>> 'abc'[1], 'abc'[-1], 'abcdef'[1:4], 'abcdef'[::2], [1, 2, 3][-2:]
>>> 'é'.upper(), len('日本'), '日本'[1]
>>> [x * 2 for x in range(5) if x % 2], {x: x ** 2 for x in range(3)}, {x % 3 for x in range(10)}
>>> [(x, y) for x in range(3) for y in 'ab' if x and y != 'b']
>>> list(x for x in 'hey'), sum(x for x in range(4))
"#]);
}

#[test]
fn formatting() {
    check(&[r#"
>>> '%s and %r' % ('a', 'a'), '%d%%' % 50, '%5d|%-5d|%05d' % (42, 42, 42), '%.2f' % 3.14159, '%x %X %o' % (255, 255, 8)
>>> '%(name)s is %(age)d' % {'name': 'Bob', 'age': 30}, '%s' % [1, 2], '%s' % (None,), '%10.3f|' % 2.5, '%e' % 12345.678
>>> '%g %g %g' % (0.0001, 123456789.0, 1.5), '%i' % 3.9, '%+d' % 5, '%c' % 65, '%-6s|' % 'ab', '%.1s' % 'xyz'
>>> '{} {}'.format(1, 'a'), '{0} {0}'.format('x'), '{name}!'.format(name='N'), '{:>5}'.format('r'), '{:<5}|'.format('l')
>>> '{:^7}'.format('c'), '{:*^7}'.format('c'), '{:05d}'.format(42), '{:,}'.format(1234567), '{:.3f}'.format(2.0)
>>> '{!r}'.format('q'), '{:x}'.format(255), '{:#x}'.format(255), '{:b}'.format(5), '{:e}'.format(1234.5), '{:.2%}'.format(0.256)
>>> '{0[0]} {1[k]}'.format([9], {'k': 'v'}), '{:10}|'.format(3), '{:10}|'.format('s'), '{{literal}}'.format()
>>> x = 3.5; name = 'world'
>>> f'hello {name}!', f'{x:.2f}', f'{x!r}', f'{name!r:>10}', f'{{x}}', f'{x * 2}', f"{'nested'}", f'{x=}'
>>> width = 8
>>> f'{name:>{width}}|', f'{1 + 1}{2}', f'{[1, 2]}', f'{ {"a": 1}["a"] }'
>>> format(3.14159, '.2f'), format(42, 'd'), format('s', '>3'), str(12345.6789), 1e22, 1.0e-7, 123456789012345678
>>> float('inf'), -float('inf'), float('nan'), 2.0 ** 0.5, 1 / 3, 100.0, 1e15, 12345678901234567.0
"#]);
}

#[test]
fn modules() {
    check(&[r#"
>>> import json
>>> json.dumps({'a': [1, 2.5, None, True, 'é'], 'b': {}}), json.dumps([]), json.dumps('x"y')
>>> print(json.dumps({'a': 1, 'b': [1, 2]}, indent=2, sort_keys=True))
>>> json.loads('{"x": [1, 2.0, null, false, "s"]}')
>>> json.dumps({'a': 1}, separators=(',', ':'))
>>> import os.path
>>> os.path.join('a', 'b', 'c.txt'), os.path.join('/x', '/y'), os.path.basename('/a/b.txt'), os.path.dirname('/a/b.txt'), os.path.splitext('f.tar.gz')
>>> import os
>>> 'PATH' in os.environ, os.environ.get('NO_SUCH_VARIABLE_X'), os.getenv('NO_SUCH_VARIABLE_X', 'd')
>>> os.environ['HARNESS_TEST_VAR_X'] = 'v'; os.environ['HARNESS_TEST_VAR_X'], os.getenv('HARNESS_TEST_VAR_X'), 'HARNESS_TEST_VAR_X' in os.environ
>>> del os.environ['HARNESS_TEST_VAR_X']; os.environ.get('HARNESS_TEST_VAR_X', 'gone')
>>> os.environ['NO_SUCH_VARIABLE_X']
>>> import datetime
>>> datetime.date(2020, 1, 2), str(datetime.date(2020, 1, 2)), datetime.datetime(2020, 1, 2, 3, 4), datetime.datetime(2020, 1, 2, 3, 4, 5, 6)
>>> str(datetime.datetime(2020, 1, 2, 3, 4, 5)), datetime.timedelta(days=1, hours=1), str(datetime.timedelta(seconds=90)), datetime.timedelta(0)
>>> datetime.datetime(2020, 1, 2) + datetime.timedelta(days=30), datetime.date(2020, 3, 1) - datetime.date(2020, 2, 1)
>>> str(datetime.timedelta(days=-1, seconds=5)), str(datetime.timedelta(microseconds=5)), datetime.timedelta(minutes=2).total_seconds()
>>> datetime.date(2020, 1, 2) < datetime.date(2020, 1, 3), datetime.date(2020, 1, 2) == datetime.date(2020, 1, 2), datetime.date(2020, 1, 2).year
>>> datetime.datetime(2021, 5, 6, 7, 8, 9).strftime('%Y/%m/%d %H-%M-%S'), datetime.datetime(2021, 5, 6).isoformat()
>>> from decimal import Decimal
>>> Decimal('1.50'), str(Decimal('1.50')), Decimal('1.5') + Decimal('2.25'), Decimal(3) * Decimal('0.5'), Decimal('1E+2'), Decimal('0.0000001')
>>> Decimal('1.0') == Decimal('1'), Decimal('2') > 1, -Decimal('3.5'), Decimal('10') - 3
>>> from pprint import pprint
>>> pprint({'b': 1, 'a': [1, 2, 3]})
>>> pprint({'key%d' % i: list(range(i)) for i in range(8)})
>>> pprint([{'name': 'x' * 30, 'values': list(range(12))}, ('a' * 40, 'b' * 40)])
>>> import time; time.sleep(0)
>>> import sys
>>> sys.stdout.write('direct\n')
"#]);
}

#[test]
fn set_order_and_misc() {
    check(&[r#"
>>> {3, 1, 2}, {10, 3, 8, 100}, {-1, -2, 5}, set([5, 4, 3, 2, 1]), {x * 7 for x in range(12)}, {True, 2, 0}
>>> s = set(); s.add(33); s.add(1); s.add(17); s
>>> sorted({'b', 'a'}), list({100, 7, 64, 9}), {1, 2} | {9, 3}, set(range(20, 0, -3))
>>> s = {5, 3, 9}; s.pop(), s
>>> x = [1, 2]; y = x; y.append(3); x, x is y, x == [1, 2, 3], [] is [], None is None
>>> d = {'a': 1, 'b': 2, 'c': 3}; del d['b']; d['b'] = 4; d
>>> def f(x, acc=[]):
...     acc.append(x)
...     return acc
>>> f(1), f(2)
>>> class Counter:
...     count = 0
...     def __init__(self):
...         Counter.count += 1
...         self.id = Counter.count
>>> [Counter().id for _ in range(3)], Counter.count
>>> def tryfinally():
...     try:
...         return 'try'
...     finally:
...         print('cleanup')
>>> tryfinally()
>>> def loopfinally():
...     for i in range(3):
...         try:
...             if i == 1:
...                 continue
...             if i == 2:
...                 break
...         finally:
...             print('f', i)
>>> loopfinally()
>>> str(KeyError('k')), repr(KeyError('k')), str(ValueError('a', 'b')), repr(Exception()), str(Exception())
>>> e = ValueError('v'); e.args, type(e), isinstance(e, Exception), ValueError.__mro__
>>> 'abc' * 2, [0] * 3, 3 * 'x', (1,) * 2, -3 ** 2, 2 ** 3 ** 2, 7 % -3, -7.5 // 2, 2 ** 0.5 * 2
>>> 'a' 'b' "c", 'x' in 'xyz', [1, 2] in [[1, 2]], 3 not in {1: 2}, () == (), not []
>>> print(*[1, 2, 3], sep=', '), print(), print('a', end='')
>>> [*range(3), *'ab'], {**{'a': 1}, 'b': 2}, (*[1], 2)
>>> '%s' % {'k': 'v'}, '%r' % ('x',), '%s %s' % ('a', ('b', 'c')), 'x%sy' % ''
>>> True + True, True * 3, -True, 1 == True, hash(1) == hash(True), {1: 'a', True: 'b'}
>>> int('  12  '), int('-0'), int('1_000'), float(' 2.5 '), float('1e3'), str(-0.0), 0.1 * 3, 1e100
>>> 10 ** 18, -9223372036854775807 - 1, 9007199254740993, 123.456e5, 5e-324, 1.7976931348623157e308
>>> round(0.5), round(1.5), round(-0.5), round(2.5, 0), round(0.125, 2), round(7.0)
>>> 'Ab'.swapcase(), 'a\tb'.expandtabs(4), 'abc'.removeprefix('a'), 'abc'.removesuffix('c'), 'AB'.isupper()
>>> import json; json.dumps({'t': (1, 2), 'n': -0.5, 'e': 1e20}), json.dumps('ünï'), json.dumps('ünï', ensure_ascii=False)
>>> json.loads('[1, 2'), 
>>> json.loads('{"a": 1} x')
"#]);
}

#[test]
fn generators_interleave_like_cpython() {
    check(&[r#"
>>> def gen(n):
...     print('start')
...     for i in range(n):
...         print('make', i)
...         yield i
...     print('end')
>>> g = gen(3)
>>> for x in g:
...     print('got', x)
>>> for x in gen(5):
...     print('got', x)
...     if x == 1:
...         break
>>> def bad():
...     yield 1
...     raise ValueError('late')
>>> b = bad()
>>> next(b)
>>> next(b)
>>> list(bad())
>>> it = (print('expr', i) or i for i in range(2))
>>> list(it)
>>> g2 = gen(1)
>>> next(g2), next(g2, 'default')
>>> sum(x for x in range(10) if x % 2), max(len(w) for w in ['a', 'bbb']), dict((k, 1) for k in 'ab')
"#]);
}

#[test]
fn value_objects_as_keys() {
    check(&[r#"
>>> from decimal import Decimal
>>> import datetime
>>> d = {Decimal('1.0'): 'one', datetime.date(2020, 1, 1): 'ny', datetime.timedelta(days=1): 'day'}
>>> d[Decimal('1')], d[1], d[datetime.date(2020, 1, 1)], d[datetime.timedelta(hours=24)], Decimal('1.5') in d
>>> len({Decimal('2'), Decimal('2.00'), 2}), datetime.date(2020, 1, 1) in {datetime.date(2020, 1, 1)}
"#]);
}

#[test]
fn assorted_edge_cases() {
    check(&[r#"
>>> 'a,b'.split(',', 0), ''.split(','), ''.split(), 'a  b'.split(' '), 'abc'.split('b', -1), ' x '.rsplit(None, 5)
>>> 'ab\ncd\n'.splitlines(True), 'abc'.center(6), 'abc'.center(8, '-'), '%-8s|%8s' % ('l', 'r'), '%3d|' % 12345
>>> 'x'.join('abc'), ''.join([]), 'ab'.find(''), 'ab'.count(''), 'aaa'.count('aa'), 'abc'[::-1], 'abcdef'[-3:-1]
>>> 'Straße'.upper(), 'ǅ'.lower(), '1.5'.isdigit(), ''.isalpha(), 'a1'.isalnum(), ' \t'.isspace(), 'x'.isidentifier()
>>> str(True), str(None), str([1, 'a']), str((1,)), str({'a': (1, 2)}), repr(1.0), repr(-1.5e-10), str(1e-5)
>>> '{:>8.3f}|{:<6}|{:^6}|{:+d}|{: d}'.format(3.14159, 'ab', 'cd', 5, 7), '{:08.2f}'.format(-3.5), '{:.0f}'.format(2.5)
>>> '{:.3}'.format(3.14159), '{:.3}'.format('abcdef'), '{:10.4}|'.format(12.0), '{:g}'.format(1e-10), '{:n}'.format(1234)
>>> '%.3g|%10.2e|%-10.1f|' % (1234.5678, 0.000123, 2.25), '%5.1f%%' % 99.5, '%s' % 1.0, '%r' % 1e100, '%.0f' % 0.5
>>> f'{3:03}', f'{-3:03}', f'{"s":3}|', f'{1234567.891:,.2f}', f'{0.5:.0%}', f'{255:#06x}', f'{True}', f'{None!s:>5}'
>>> [1, 2, 3][5:], [1, 2, 3][-5:2], (1, 2, 3)[::-2], 'abc'[10:], list(range(10))[2:8:3], list(range(5))[::-1][1:3]
>>> a = [0, 1, 2, 3, 4, 5]; a[::2] = ['x', 'y', 'z']; a
>>> a = [1, 2, 3]; a[1:2] = []; a; a[:0] = [7]; a
>>> x = [3, 1, 2]; x.sort(key=lambda v: -v); x; sorted(['b', 'A', 'c'], key=str.lower); sorted([(1, 'b'), (1, 'a'), (0, 'z')])
>>> sorted([3, 1, 2], key=None, reverse=True), list(reversed(range(3))), list(reversed('ab')), min('bca'), max([], default=0)
>>> max([1, 3, 2], key=lambda v: -v), min([[1, 2], [1]]), sum([[1], [2]], []), any(x > 2 for x in [1, 3]), all(x for x in [1, 0])
>>> dict.fromkeys('ab', 0), {}.get(1, 2), dict(zip('ab', [1, 2])), {1: 2} == {1: 2}, {1: 2} == {1: 3}, [(k, v) for k, v in {'a': 1}.items()]
>>> d = {}; d.setdefault('l', []).append(1); d.setdefault('l', []).append(2); d
>>> d = {'a': 1}; d.update([('b', 2)]); d.update(c=3); d; d.pop('zz', None); list(d), list(d.values())
>>> t = (1, 2, 2, 3); t.count(2), t.index(3), t + (4,), t[1:3], len(t), 2 in t, tuple(reversed(t))
>>> s = {1, 2, 3}; s.remove(2); s; s.update([4, 5], {6}); s; s.issubset({1, 3, 4, 5, 6, 7}), s.isdisjoint({9})
>>> frozenset([1, 2]) == {1, 2}, set('aab') == {'a', 'b'}, {1, 2} < {1, 2, 3}, {1, 2} > {1}, len(set())
>>> type(range(3)).__name__, isinstance(range(3), range), list(range(0)), range(3)[1], 2 in range(3)
>>> int('0x10', 16), int('10', 2), int('z', 36), int(-3.9), int(True), float('-inf') < 0, abs(-0.0), 7 // -2, 7.0 % -2
>>> bool(0.0), bool('0'), bool(None), bool(()), bool({0}), not None, 0 == False, '' == False, None == False
>>> x = 5; x += 2; x -= 1; x *= 3; x //= 4; x **= 2; x %= 7; x <<= 2; x >>= 1; x |= 8; x &= 12; x ^= 5; x
>>> l = [1]; l += (2, 3); l *= 2; l
>>> s = 'a'; s += 'b'; s *= 2; s
>>> chr(0x1F600), ord('€'), '€'.encode(), len('€'.encode()), b'\xe2\x82\xac'.decode(), repr('\x00\x7f\u200b')
>>> print('%s|%5s|%-5s|' % (None, True, 1.5))
>>> print(repr('a\\b'), repr("'"), repr('"'), repr('\'"'), repr('\n\t'))
"#]);
}

#[test]
fn class_edge_cases() {
    check(&[r#"
>>> class A:
...     x = 1
...     def __init__(self, v=0):
...         self.v = v
...     def get(self):
...         return self.v + self.x
...     @classmethod
...     def make(cls, v):
...         return cls(v)
...     def __repr__(self):
...         return '%s(%r)' % (type(self).__name__, self.v)
>>> class B(A):
...     x = 10
>>> B.make(5), B.make(5).get(), A.make(1).get(), B(2).x, A.x, B.__bases__, B.__name__
>>> b = B(1); b.x = 100; b.get(), B.x, A.get(b), getattr(b, 'v'), vars(b)
>>> class C(B):
...     def get(self):
...         return super().get() * 2
>>> C(1).get(), isinstance(C(), A), issubclass(C, (int, A)), C.mro if False else [k.__name__ for k in C.__mro__]
>>> class M:
...     def __init__(self, *args, **kwargs):
...         self.args = args; self.kwargs = kwargs
>>> m = M(1, 2, k=3); m.args, m.kwargs
>>> class Vec:
...     def __init__(self, x, y): self.x, self.y = x, y
...     def __add__(self, o): return Vec(self.x + o.x, self.y + o.y)
...     def __mul__(self, k): return Vec(self.x * k, self.y * k)
...     def __rmul__(self, k): return self * k
...     def __eq__(self, o): return (self.x, self.y) == (o.x, o.y)
...     def __neg__(self): return Vec(-self.x, -self.y)
...     def __repr__(self): return f'Vec({self.x}, {self.y})'
...     def __iter__(self): return iter([self.x, self.y])
>>> Vec(1, 2) + Vec(3, 4), Vec(1, 2) * 3, 2 * Vec(1, 1), -Vec(1, 2), Vec(1, 2) == Vec(1, 2), list(Vec(5, 6)), [*Vec(7, 8)]
>>> x, y = Vec(9, 10); x, y
>>> Vec(1, 2) + 1
>>> class E(Exception):
...     def __init__(self, code):
...         super().__init__('code %d' % code)
...         self.code = code
>>> try:
...     raise E(7)
... except E as e:
...     print(e, e.code, e.args, repr(e))
>>> raise E(3)
>>> class F(ValueError): pass
>>> try:
...     raise F('f')
... except ValueError as e:
...     print('as ValueError:', type(e).__name__, e)
>>> class WithStr:
...     def __str__(self): return 'S'
>>> str(WithStr()), '%s' % WithStr(), f'{WithStr()}', '{}'.format(WithStr()), print(WithStr())
>>> class Empty: pass
>>> e = Empty(); e.a = 1; e.a, hasattr(e, 'b'), Empty.__name__, type(e) is Empty
>>> def deco(f):
...     def wrapper(*a, **k):
...         print('calling', f.__name__)
...         return f(*a, **k)
...     return wrapper
>>> @deco
... def add(a, b):
...     return a + b
>>> add(1, b=2)
>>> class Prop:
...     def __init__(self): self._v = 1
...     @property
...     def v(self): return self._v
>>> p = Prop(); p.v
>>> p.v = 3
"#]);
}

#[test]
fn hashing_rules() {
    check(&[r#"
>>> class K:
...     def __eq__(self, o): return True
>>> {K()}
>>> class H:
...     pass
>>> len({H(), H()}), hash((1, 'a')) == hash((1, 'a')), {(1, 2): 'pair'}[(1, 2)]
>>> {[1]: 2}
>>> {{}}
"#]);
}

#[test]
fn module_exceptions() {
    check(&[r#"
>>> from decimal import Decimal, InvalidOperation
>>> Decimal('abc')
>>> try:
...     Decimal('x')
... except InvalidOperation:
...     print('invalid')
>>> import json
>>> try:
...     json.loads('')
... except ValueError as e:
...     print(type(e).__name__, e)
"#]);
}

#[test]
fn pprint_long_strings() {
    check(&[r#"
>>> from pprint import pprint, pformat
>>> pprint({'a': 'word ' * 30, 'b': 'x' * 100})
>>> pprint('word ' * 40)
>>> pprint(['line one\nline two\n' * 4, 'short'])
>>> pprint({'log': 'INFO:MartCreateWorker:Mart creation began: 2020\nINFO:MartCreateWorker:Creating database: mart_empty_1\n'})
>>> print(pformat([1, 2, 3], width=5))
>>> pprint([[1, 2, [3, 4, [5, 6]]], {'k': (1, 2)}] * 3)
>>> pprint(('a' * 50, 'b' * 50))
"#]);
}

#[test]
fn lazy_generators() {
    check(&[r#"
>>> state = []
>>> def counter():
...     n = 0
...     while True:
...         state.append(n)
...         yield n
...         n += 1
>>> c = counter()
>>> state
>>> next(c), next(c), state
>>> for x in counter():
...     if x > 3:
...         break
...     print(x, len(state))
>>> def walk(tree):
...     for k, v in tree.items():
...         if isinstance(v, dict):
...             for sub in walk(v):
...                 yield k + '.' + sub
...         else:
...             yield k
... 
>>> list(walk({'a': 1, 'b': {'c': 2, 'd': {'e': 3}}, 'f': 4}))
>>> def early():
...     yield 1
...     return
...     yield 2
>>> list(early())
>>> def loops():
...     for i in range(4):
...         if i == 1:
...             continue
...         yield i
...     else:
...         yield 'else'
...     while False:
...         yield 'never'
...     else:
...         yield 'while-else'
>>> list(loops())
>>> def echo():
...     x = yield 1
...     yield x
>>> list(echo())
>>> def failing():
...     yield 'ok'
...     1 / 0
>>> g = failing()
>>> next(g)
>>> next(g)
>>> next(g)
>>> def with_try():
...     try:
...         yield 1
...     finally:
...         print('cleanup')
>>> list(with_try())
>>> type(counter()).__name__, iter(c) is c
"#]);
}

#[test]
fn generator_expressions_are_lazy() {
    check(&[r#"
>>> log = []
>>> g = (log.append(x) or x * 2 for x in range(5) if x % 2 == 0)
>>> log
>>> next(g), log
>>> list(g), log
>>> def f(n):
...     return sum(i * j for i in range(n) for j in range(i) if j % 2)
>>> f(6)
>>> class C:
...     vals = [1, 2]
...     doubled = list(v * 2 for v in vals)
>>> C.doubled
>>> it = (x for x in [1, 2])
>>> type(it).__name__, list(it), list(it)
>>> repr(1 / x for x in [1, 0]).startswith('<generator object <genexpr> at 0x')
>>> list(1 / x for x in [1, 0])
>>> any(print(x) or x > 1 for x in range(10))
>>> ', '.join(str(x) for x in range(3)), max(x for x in 'abc'), dict((x, len(x)) for x in ['a', 'bb'])
"#]);
}

#[test]
fn super_variants() {
    check(&[r#"
>>> class A:
...     @classmethod
...     def create(cls):
...         return 'A.create for ' + cls.__name__
...     def who(self):
...         return 'A'
>>> class B(A):
...     @classmethod
...     def create(cls):
...         return 'B+' + super().create()
...     def who(self):
...         return 'B>' + super(B, self).who()
>>> B.create(), B().who(), B().create()
>>> class D(B):
...     def who(self):
...         return 'D>' + super().who()
>>> D().who()
"#]);
}

#[test]
fn syntax_corners() {
    check(&[r#"
>>> '\101\x41\u0041\U00000041', 'a\
... b', "tab\tq\"uote", '''it's''', """say "x" """, r'\n\t', rb'\x00', b'\x41\n'
>>> f"{'a' + 'b'}", f'{3:{"<"}5}|', f'{"{"}', f'''{1
... + 1}''', f'{1}' f'{2}' '3'
>>> x = 1; y = 2; z = x if x > y else y; z
>>> a = [1, 2, 3]; i = 0
>>> def idx():
...     global i
...     i += 1
...     return 0
>>> a[idx()] += 10; a, i
>>> def cmp_count():
...     global i
...     i += 1
...     return i
>>> i = 0; 0 < cmp_count() < 5, i
>>> def deco(tag):
...     def wrap(f):
...         def inner(*a, **k):
...             return tag + str(f(*a, **k))
...         return inner
...     return wrap
>>> @deco('<')
... @deco('[')
... def val(x, *, y=1):
...     return x + y
>>> val(1), val(1, y=5)
>>> val(1, 2)
>>> fs = [lambda i=i: i for i in range(3)]; [f() for f in fs]
>>> fs = [lambda: i for i in range(3)]; [f() for f in fs]
>>> def kw(a, *args, b, c=3, **rest):
...     return a, args, b, c, rest
>>> kw(1, 2, 3, b=4, d=5), kw(*[1], **{'b': 2}), kw(1, b=2, **{'c': 9, 'z': 0})
>>> kw()
>>> kw(1)
>>> def outer():
...     items = []
...     def add(v):
...         items.append(v)
...     add(1); add(2)
...     return items
>>> outer()
>>> v = 5
>>> del v
>>> v
>>> def local_del():
...     w = 1
...     del w
...     return w
>>> local_del()
>>> if True: print('one-line if'); print('second')
>>> for i in range(2): print(i); print('x')
>>> while False: pass
>>> class Tiny: x = 1; y = 2
>>> Tiny.x + Tiny.y
>>> [i for i in range(3)]; i
>>> (lambda *a, **k: (a, k))(1, x=2)
>>> 1 if True else 2 if False else 3, (1, 2)[True], not 1 == 2, - - 3, ~5, +True
>>> 2 ** -1, 10 % 3.5, divmod(-7, 2), divmod(7.5, 2), abs(-7 // 2), 1e3 == 1000, 0.1 + 0.2 == 0.3
>>> print('a', 'b', sep='')
>>> print()
>>> assert isinstance([], list), 'never'
>>> x = [1, [2, 3]]; x[1][0] = 'changed'; x
>>> d = {'k': {'n': 1}}; d['k']['n'] += 1; d
>>> t = (1, [2]); t[1].append(3); t
>>> t[0] = 5
>>> s = 'abc'; s[0] = 'x'
>>> None.x
>>> len()
>>> len(1, 2)
>>> 'abc'.join()
>>> [].append()
>>> {}.get()
>>> {}.pop(), [].insert(1)
>>> [].insert(1)
>>> 'a'.split(1, 2, 3)
>>> 'a'.startswith()
>>> [].pop(1, 2)
>>> {1}.add()
>>> 'a'.upper(1)
>>> 'a'.strip(1, 2)
>>> 'a'.zfill()
"#]);
}

#[test]
fn set_order_of_int_tuples() {
    check(&[r#"
>>> {(1, 2), (0, 1), (5, 5), (2, 1)}, {(i, i * i) for i in range(8)}, list({(1, (2, 3)), (0,), ()})
"#]);
}

#[test]
fn realistic_transcript_helpers() {
    check(&[r#"
>>> class Record(object):
...     __slots__ = ()
...     fields = ('code', 'owner', 'status')
...     def __init__(self, *values):
...         object.__setattr__(self, '_v', values) if False else None
>>> class Row:
...     def __init__(self, **kw):
...         for k, v in sorted(kw.items()):
...             setattr(self, k, v)
...     def __repr__(self):
...         return 'Row(%s)' % ', '.join('%s=%r' % (k, v) for k, v in sorted(vars(self).items()))
>>> rows = [Row(code=i, owner='o%d' % (i % 2), size=i * 1.5) for i in range(1, 6)]
>>> rows[0], len(rows)
>>> def table(rows, cols):
...     widths = [max(len(c), max(len(str(getattr(r, c))) for r in rows)) for c in cols]
...     print(' | '.join(c.ljust(w) for c, w in zip(cols, widths)))
...     print('-+-'.join('-' * w for w in widths))
...     for r in rows:
...         print(' | '.join(str(getattr(r, c)).rjust(w) for c, w in zip(cols, widths)))
>>> table(rows, ['code', 'owner', 'size'])
>>> by_owner = {}
>>> for r in rows:
...     by_owner.setdefault(r.owner, []).append(r.code)
>>> by_owner, sorted(by_owner.items(), key=lambda kv: -len(kv[1]))
>>> totals = {k: sum(v) for k, v in by_owner.items()}
>>> print(', '.join('%s: %d' % kv for kv in sorted(totals.items())))
>>> summary = 'Mart creation complete: %(name)s (%(n)d tables, %(size).1f MB)' % {'name': 'mart_1', 'n': 3, 'size': 12.345}
>>> summary
>>> print('\n'.join('%-10s%5s' % (r.owner, r.code) for r in rows[:2]))
>>> [r.code for r in rows if r.size > 3 and r.owner == 'o1']
>>> try:
...     rows[10]
... except IndexError as exc:
...     print('no such row:', exc)
>>> stats = dict(count=len(rows), codes=[r.code for r in rows])
>>> import json; print(json.dumps(stats, sort_keys=True))
>>> from pprint import pprint; pprint(stats)
"#]);
}

#[test]
fn set_order_of_floats() {
    check(&[r#"
>>> {1.5, 0.25, 3.0, -2.75, 1e-300, 1e300}, {0.1 * i for i in range(10)}, {1, 2.5, (1, 0.5)}
>>> {10, 3, 8, 100, 50}, set([10, 3, 8, 100, 50]), {10, 3, 8, 100, 50, 1000, 77, 33, 12, 19}, {x for x in [10, 3, 8, 100, 50]}
>>> x = 50; {10, 3, 8, 100, x}, {(1, 2), (3, 4), (5, 6), (7, 8), (9, 10)}
"#]);
}

#[test]
fn set_operation_orders() {
    check(&[r#"
>>> a = set([10, 3, 8, 100, 50]); b = set([50, 77, 3, 1000])
>>> a | b, a & b, a - b, b - a, a.union(b), a.intersection(b), a.difference(b)
>>> set(a), a.copy(), set({10, 3, 8, 100, 50})
"#]);
}

#[test]
fn format_of_value_objects() {
    check(&[r#"
>>> import datetime
>>> from decimal import Decimal
>>> d = datetime.datetime(2021, 3, 4, 5, 6, 7); day = datetime.date(2020, 12, 31)
>>> f'{d:%Y-%m-%d %H:%M}', f'{day:%d/%m/%Y}', f'{d}', '{:%H}'.format(d), format(day, '')
>>> f'{Decimal("2.675"):.2f}', f'{Decimal("1.5"):.0f}', f'{Decimal("2.5"):.0f}', f'{Decimal("-1.005"):.2f}', f'{Decimal("12.3"):>8.2f}|'
>>> f'{Decimal("1E+2"):f}', f'{Decimal("0.0001"):f}', f'{Decimal("123.456")}', f'{Decimal("3"):.3f}', f'{Decimal("7.1"):<6}|'
"#]);
}

#[test]
fn percent_format_of_decimals() {
    check(&[r#"
>>> from decimal import Decimal
>>> '%.2f|%d|%s|%r|%5.1f' % (Decimal('2.675'), Decimal('7.9'), Decimal('1.50'), Decimal('1.50'), Decimal('3'))
"#]);
}

#[test]
fn decimal_division() {
    check(&[r#"
>>> from decimal import Decimal as D
>>> D(1) / D(3), D(2) / D(3), D('1') / D('4'), D('10') / D('2'), D('1.00') / D('0.5'), D('-7') / D('8'), D(0) / D('2.50')
>>> D('123456789') / D('7'), 1 / D(8), D('1E+5') / D(4), D('100') / 3, D('2.5') / 2
>>> D(1) / 0
>>> D(0) / 0
"#]);
}

#[test]
fn class_keywords_metaclasses_and_hooks() {
    check(&[
        r#"
>>> class M(type):
...     def __new__(mcs, name, bases, ns, **kw):
...         print('new', name, bases, sorted(ns), kw)
...         return super().__new__(mcs, name, bases, ns)
...     def __init__(cls, name, bases, ns, **kw):
...         print('init', name, kw)
...         super().__init__(name, bases, ns)
...     def hello(cls):
...         return 'hi ' + cls.__name__
>>> class X(metaclass=M, a=1):
...     y = 2
...     def __init_subclass__(cls, **kw):
...         print('isc', cls.__name__, kw)
>>> class Z(X, a=5): pass
>>> type(X), type(Z), X.hello(), Z.hello(), Z.y
>>> M, M.__mro__, isinstance(X, M), isinstance(X, type)
>>> class B:
...     def __init_subclass__(cls, flag=False, **kw):
...         super().__init_subclass__(**kw)
...         cls.flag = flag
...         print('B sub', cls.__name__, flag)
>>> class C(B, flag=True): pass
>>> class D(C): pass
>>> C.flag, D.flag
>>> class E(B, bogus=1): pass
>>> class F(foo=1): pass
>>> T = type('T', (B,), {'x': 1})
>>> T.x, T.flag, type(T), T.__name__
>>> type(3), type('T', (), {})
>>> def fmeta(name, bases, ns):
...     return (name, bases, ns['v'])
>>> class G(B, metaclass=fmeta):
...     v = 7
>>> G
>>> class N:
...     def __new__(cls, *args):
...         print('N.__new__', args)
...         return super().__new__(cls)
...     def __init__(self, a):
...         print('N.__init__', a)
>>> n = N(4)
>>> class Single(type):
...     made = {}
...     def __call__(cls, *args):
...         if cls not in Single.made:
...             Single.made[cls] = super().__call__(*args)
...         return Single.made[cls]
>>> class Config(metaclass=Single):
...     def __init__(self, v):
...         print('init', v)
...         self.v = v
>>> a = Config(1); b = Config(2); a is b, a.v, type(Config).__name__
"#,
        r#"
>>> class P:
...     def __init__(self):
...         self._v = 1
...     @property
...     def v(self):
...         return self._v
...     @v.setter
...     def v(self, value):
...         print('set', value)
...         self._v = value * 2
...     w = property(lambda self: 'w')
>>> p = P()
>>> p.v = 5
>>> p.v, p.w
>>> p.w = 3
>>> type(P.v).__name__, P.v.fget is not None, P.v.fset is not None, P.w.fset
>>> class Q:
...     def g(self):
...         return 1
...     def s(self, v):
...         print('qs', v)
...     x = property(g, s)
...     y = property(fget=g)
>>> q = Q(); q.x = 9; q.x, q.y
>>> q.y = 2
>>> class R(P):
...     @P.v.getter
...     def v(self):
...         return 'R' + str(self._v)
>>> r = R(); r.v = 2; r.v
"#,
    ]);
}

#[test]
fn datetime_time() {
    check(&[r#"
>>> from datetime import time, datetime, date
>>> t = time(12, 34, 56)
>>> t, str(t), t.isoformat(), time(), time(1, 2), time(1, 2, 0, 5), time(23, 59, 59, 999999)
>>> time(1, 2, 3, 450000).isoformat(), time(1, 2, 3, 4500).isoformat('milliseconds'), t.isoformat(timespec='minutes'), t.isoformat('hours')
>>> t.hour, t.minute, t.second, t.microsecond, t.tzinfo
>>> t == time(12, 34, 56), t != time(12, 34, 56), t < time(13), t >= time(12, 34, 56, 1), t == date(2015, 5, 22)
>>> t < date(2015, 5, 22) if False else None
>>> class A: pass
>>> a = A(); a == A(), a == a, a != a, a == 3, 3 != a
>>> time(24)
>>> time(1, 60)
>>> time(minute=3)
>>> {time(1): 'a'}[time(1, 0)], bool(time())
>>> t.strftime('%H-%M-%S'), '{:%H.%M}'.format(t), f'{t}'
>>> time.fromisoformat('12:34:56'), time.fromisoformat('12:34'), time.fromisoformat('01:02:03.000004')
>>> time.fromisoformat('x')
>>> dt = datetime(2015, 5, 22, 12, 34, 56); dt.time(), datetime.combine(date(2015, 5, 22), t) == dt
>>> sorted([time(3), time(1), time(2, 30)])
>>> time('1')
"#]);
}

#[test]
fn pprint_sort_dicts() {
    check(&[r#"
>>> from pprint import pprint, pformat
>>> d = {'zeta': [3, 2, 1], 'alpha': {'y': 1, 'x': 2}, 'mid': 'm' * 30}
>>> pprint(d, sort_dicts=False)
>>> pprint(d, width=30, sort_dicts=False)
>>> pprint(d, width=30)
>>> print(pformat([d, {'b': 1, 'a': 2}], sort_dicts=False))
"#]);
}
