//! Lazy generators. A generator whose `yield`s are whole statements inside plain
//! blocks, `if`, `for` and `while` (see [`lazy_generator_body`]) runs step by step
//! like CPython's: each `next()` resumes the body where the last `yield` left it.
//! The resume point is an explicit stack of levels (statement lists addressed by
//! index paths into the function's AST, and loops in progress). Statements that
//! contain no `yield` run through the ordinary evaluator. Other generators run
//! eagerly (see `Iter::Gen`).
//!
//! [`lazy_generator_body`]: super::ast::lazy_generator_body

use super::ast::{Expr, ExprKind, Stmt, StmtKind};
use super::interp::{Flow, Frame, FrameKind, Interpreter, Scope, R};
use super::value::{Exception, Function, Iter, TraceFrame, Value};
use std::cell::RefCell;
use std::rc::Rc;

/// A statement list inside a function body: each step picks a statement of the
/// current list and one of its child lists (0 = body, 1 = `else`).
type ListPath = Vec<(usize, u8)>;

enum Level {
    /// Executing statement `idx` of a list.
    Block { list: ListPath, idx: usize },
    /// A `for` loop (statement `i` of list `at`) between iterations.
    For { at: ListPath, i: usize, iter: Value },
    /// A `while` loop between iterations.
    While { at: ListPath, i: usize },
}

/// A suspended generator.
pub struct GenState {
    func: Rc<Function>,
    scope: Rc<Scope>,
    levels: Vec<Level>,
    /// `target = yield x`: the targets to bind (to None) when resumed.
    resume_assign: Option<(ListPath, usize)>,
}

impl GenState {
    /// The generator function's qualified name (for repr).
    pub fn qualname(&self) -> &str {
        &self.func.qualname
    }

    pub fn new(func: Rc<Function>, scope: Rc<Scope>) -> GenState {
        GenState {
            func,
            scope,
            levels: vec![Level::Block {
                list: Vec::new(),
                idx: 0,
            }],
            resume_assign: None,
        }
    }
}

fn resolve<'a>(body: &'a [Stmt], path: &[(usize, u8)]) -> &'a [Stmt] {
    let mut list = body;
    for &(i, which) in path {
        let Some(s) = list.get(i) else { return &[] };
        list = match &s.kind {
            StmtKind::If(_, a, b) | StmtKind::While(_, a, b) | StmtKind::For(_, _, a, b) => {
                if which == 0 {
                    a
                } else {
                    b
                }
            }
            _ => &[],
        };
    }
    list
}

fn child(path: &ListPath, i: usize, which: u8) -> ListPath {
    let mut p = path.clone();
    p.push((i, which));
    p
}

impl Interpreter {
    /// Resumes a lazy generator: the next item, or `None` when it finished.
    pub(crate) fn resume_generator(&mut self, cell: &Rc<RefCell<Iter>>) -> R<Option<Value>> {
        let state = std::mem::replace(&mut *cell.borrow_mut(), Iter::Running);
        let mut st = match state {
            Iter::Lazy(st) => st,
            Iter::Running => {
                *cell.borrow_mut() = Iter::Running;
                return Err(Exception::value_error("generator already executing"));
            }
            other => {
                *cell.borrow_mut() = other;
                return Ok(None);
            }
        };
        let def = st.func.def.clone();
        self.frames.push(Frame {
            kind: FrameKind::Function,
            locals: Some(st.scope.clone()),
            enclosing: st.func.closure.clone(),
            globals: st.func.globals.clone(),
            func: Some(def.clone()),
            filename: st.func.filename.clone(),
            name: def.name.clone(),
            line: def.line,
            yields: None,
            handling: Vec::new(),
        });
        let r = self.gen_step(&mut st);
        let frame = self.frames.pop().expect("pushed above");
        match r {
            Ok(Some(v)) => {
                *cell.borrow_mut() = Iter::Lazy(st);
                Ok(Some(v))
            }
            Ok(None) => {
                *cell.borrow_mut() = Iter::Done;
                Ok(None)
            }
            Err(mut e) => {
                *cell.borrow_mut() = Iter::Done;
                e.0.frames.push(TraceFrame {
                    filename: frame.filename,
                    line: frame.line,
                    name: frame.name,
                });
                Err(e)
            }
        }
    }

    fn gen_step(&mut self, st: &mut GenState) -> R<Option<Value>> {
        let def = st.func.def.clone();
        let body: &[Stmt] = &def.body;
        if let Some((list, i)) = st.resume_assign.take() {
            if let Some(Stmt {
                kind: StmtKind::Assign(targets, _),
                ..
            }) = resolve(body, &list).get(i)
            {
                for t in targets {
                    self.assign(t, Value::None)?;
                }
            }
        }
        loop {
            let Some(top) = st.levels.last_mut() else {
                return Ok(None);
            };
            match top {
                Level::Block { list, idx } => {
                    let stmts = resolve(body, list);
                    let i = *idx;
                    let Some(s) = stmts.get(i) else {
                        st.levels.pop();
                        continue;
                    };
                    *idx += 1;
                    let list = list.clone();
                    if !s.has_yield() {
                        match self.exec_stmt(s)? {
                            Flow::Normal => {}
                            Flow::Return(_) => {
                                st.levels.clear();
                                return Ok(None);
                            }
                            flow @ (Flow::Break | Flow::Continue) => {
                                // unwind to the innermost loop
                                while let Some(l) = st.levels.pop() {
                                    if matches!(l, Level::For { .. } | Level::While { .. }) {
                                        if matches!(flow, Flow::Continue) {
                                            st.levels.push(l);
                                        }
                                        break;
                                    }
                                }
                            }
                        }
                        continue;
                    }
                    self.set_line_pub(s.line);
                    match &s.kind {
                        StmtKind::Expr(Expr {
                            kind: ExprKind::Yield(v),
                            ..
                        }) => {
                            let v = match v {
                                Some(v) => self.eval(v)?,
                                None => Value::None,
                            };
                            return Ok(Some(v));
                        }
                        StmtKind::Assign(
                            _,
                            Expr {
                                kind: ExprKind::Yield(v),
                                ..
                            },
                        ) => {
                            let v = match v {
                                Some(v) => self.eval(v)?,
                                None => Value::None,
                            };
                            st.resume_assign = Some((list, i));
                            return Ok(Some(v));
                        }
                        StmtKind::If(test, _, _) => {
                            let t = self.eval(test)?;
                            let which = if self.truthy(&t)? { 0 } else { 1 };
                            st.levels.push(Level::Block {
                                list: child(&list, i, which),
                                idx: 0,
                            });
                        }
                        StmtKind::For(_, iter, _, _) => {
                            let it = self.eval(iter)?;
                            let it = self.get_iter(&it)?;
                            st.levels.push(Level::For {
                                at: list,
                                i,
                                iter: it,
                            });
                        }
                        StmtKind::While(..) => st.levels.push(Level::While { at: list, i }),
                        _ => return Err(Exception::new(
                            "SystemError",
                            "generator statement not supported lazily (parser invariant broken)",
                        )),
                    }
                }
                Level::For { at, i, iter } => {
                    let (at, i, iter) = (at.clone(), *i, iter.clone());
                    let Some(Stmt {
                        kind: StmtKind::For(target, ..),
                        line,
                    }) = resolve(body, &at).get(i)
                    else {
                        st.levels.pop();
                        continue;
                    };
                    self.set_line_pub(*line);
                    match self.next(&iter)? {
                        Some(v) => {
                            self.assign(target, v)?;
                            st.levels.push(Level::Block {
                                list: child(&at, i, 0),
                                idx: 0,
                            });
                        }
                        None => {
                            st.levels.pop();
                            st.levels.push(Level::Block {
                                list: child(&at, i, 1),
                                idx: 0,
                            });
                        }
                    }
                }
                Level::While { at, i } => {
                    let (at, i) = (at.clone(), *i);
                    let Some(Stmt {
                        kind: StmtKind::While(test, ..),
                        line,
                    }) = resolve(body, &at).get(i)
                    else {
                        st.levels.pop();
                        continue;
                    };
                    self.set_line_pub(*line);
                    let t = self.eval(test)?;
                    if self.truthy(&t)? {
                        st.levels.push(Level::Block {
                            list: child(&at, i, 0),
                            idx: 0,
                        });
                    } else {
                        st.levels.pop();
                        st.levels.push(Level::Block {
                            list: child(&at, i, 1),
                            idx: 0,
                        });
                    }
                }
            }
        }
    }
}
