//! An application's mart rules for any process: its Python subclasses of
//! `rex.mart.MartAccessPermissions` and `MartQuota` (what their `top()` answers),
//! and the processors and definers its code registers, on the interpreter of the
//! calling thread ([`app_code::with_interpreter_for`]: the transcript's during a
//! binding call, else one per thread with the application's code loaded).
//!
//! One mechanism, three users: the web handlers (`webob::AppRules`), the domain's
//! [`RulesSource`] for worker threads and commands ([`ScriptRules`]: `harness
//! worker`'s `rexmart_create` job executor and task worker, `harness create`,
//! `rex mart-create`), and whoever needs the rules for one call
//! ([`with_app_rules`]). An application without subclasses gets rex's rules
//! without calling any script.

use super::app_code;
use super::rex_mart_rules::ScriptQuota;
use crate::core::app::App;
use crate::core::{Error, Result};
use crate::mart::inventory::Mart;
use crate::mart::permissions::{AccessPermissions, DefaultPermissions};
use crate::mart::rules::{MartRules, RulesSource};
use crate::mart::Definitions;
use crate::script::native::{call_method, reentrant, with_interpreter};
use crate::script::value::{Args, Class, Value};
use std::cell::OnceCell;
use std::rc::Rc;

/// The domain's [`RulesSource`] answered by the application's Python code (see
/// [`with_app_rules`]).
pub struct ScriptRules;

impl RulesSource for ScriptRules {
    fn with_rules(&self, app: &App, f: &mut dyn FnMut(&mut MartRules) -> Result<()>) -> Result<()> {
        with_app_rules(app, None, f)?
    }
}

/// Runs `f` with the mart rules of `app`: its own access and quota classes when its
/// code defines them, and its processors and definers registered on this thread
/// (the interpreter is lent to `f`, so that they run). `definitions` are the
/// application's when the caller has them read already; else they are read when
/// an inherited access rule needs them. Errors: the application's code does not
/// load, or `top()` raises.
pub fn with_app_rules<R>(
    app: &App,
    definitions: Option<&Definitions>,
    f: impl FnOnce(&mut MartRules) -> R,
) -> Result<R> {
    app_code::with_interpreter_for(app, |it| {
        let m = it
            .import_module("rex.mart")
            .map_err(|e| app_code::script_error(it, e))?;
        let class = |name: &str| match m.get(name) {
            Some(Value::Class(c)) => Ok(c),
            _ => Err(Error::with("Missing class:", name)),
        };
        let (perms_base, quota_base, mart) = (
            class("MartAccessPermissions")?,
            class("MartQuota")?,
            class("Mart")?,
        );
        let mut top = |base: &Rc<Class>| -> Result<Option<Value>> {
            let base_value = Value::Class(base.clone());
            let top = call_method(it, &base_value, "top", Args::default())
                .map_err(|e| app_code::script_error(it, e))?;
            Ok(match &top {
                Value::Class(c) if Rc::ptr_eq(c, base) => None,
                _ => Some(top),
            })
        };
        let (perms, quota) = (top(&perms_base)?, top(&quota_base)?);
        let mut quota = ScriptQuota::new(quota);
        // The interpreter is lent to the rules, processors and definers `f` calls.
        Ok(match perms {
            None => reentrant(it, || {
                f(&mut MartRules {
                    access: &mut DefaultPermissions,
                    quota: &mut quota,
                })
            }),
            Some(class) => {
                let mut access = ScriptPermissions {
                    class,
                    base: perms_base,
                    mart,
                    app,
                    given: definitions,
                    read: OnceCell::new(),
                };
                reentrant(it, || {
                    f(&mut MartRules {
                        access: &mut access,
                        quota: &mut quota,
                    })
                })
            }
        })
    })
}

/// `MartAccessPermissions` answered by a script class on the lent interpreter. The
/// rules it inherits from rex's class are followed in Rust with the application's
/// definitions (rex's `Mart.definition` would read them again for every mart),
/// calling the script only for the rules it overrides.
struct ScriptPermissions<'d> {
    class: Value,
    base: Rc<Class>,
    mart: Rc<Class>,
    app: &'d App,
    /// The caller's definitions, else those read on first need.
    given: Option<&'d Definitions>,
    read: OnceCell<Definitions>,
}

impl ScriptPermissions<'_> {
    /// Whether the class defines `rule` itself rather than inheriting rex's.
    fn overrides(&self, rule: &str) -> bool {
        let own = match &self.class {
            Value::Class(c) => c.lookup(rule),
            _ => None,
        };
        match (own, self.base.lookup(rule)) {
            (Some(Value::Descriptor(a)), Some(Value::Descriptor(b))) => !Rc::ptr_eq(&a, &b),
            _ => true,
        }
    }

    fn definitions(&self) -> Result<&Definitions> {
        if let Some(d) = self.given {
            return Ok(d);
        }
        if self.read.get().is_none() {
            let _ = self.read.set(Definitions::for_app(self.app)?);
        }
        Ok(self.read.get().expect("set above"))
    }

    /// `cls.rule(user, what)` (a mart when `mart` is given), truthy or not.
    fn ask(&self, rule: &str, user: &str, what: Value, mart: Option<&Mart>) -> Result<bool> {
        let answer = with_interpreter(|it| {
            let what = match mart {
                Some(m) => super::rex_mart::mart_value(it, &self.mart, m),
                None => Ok(what),
            };
            let r = what
                .and_then(|v| {
                    call_method(it, &self.class, rule, Args::new(vec![Value::str(user), v]))
                })
                .and_then(|v| it.truthy(&v));
            r.map_err(|e| app_code::script_error(it, e))
        });
        answer.unwrap_or_else(|| Err(Error::new("No interpreter is lent to the access rules")))
    }
}

impl AccessPermissions for ScriptPermissions<'_> {
    fn user_can_access_definition(&mut self, user: &str, id: &str) -> Result<bool> {
        self.ask("user_can_access_definition", user, Value::str(id), None)
    }
    fn user_can_access_mart(&mut self, user: &str, mart: &Mart) -> Result<bool> {
        if !self.overrides("user_can_access_mart") {
            // rex's rule: the owner, if the mart's definition (a dict) is theirs.
            if mart.owner != user {
                return Ok(false);
            }
            let definition = self.definitions()?.get(&mart.definition);
            let v = definition.map_or(Value::None, super::rex_mart::definition_value);
            return self.ask("user_can_access_definition", user, v, None);
        }
        self.ask("user_can_access_mart", user, Value::None, Some(mart))
    }
    fn user_can_manage_mart(&mut self, user: &str, mart: &Mart) -> Result<bool> {
        if !self.overrides("user_can_manage_mart") {
            return self.user_can_access_mart(user, mart);
        }
        self.ask("user_can_manage_mart", user, Value::None, Some(mart))
    }
}
