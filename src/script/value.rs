//! Plain value types of the interpreter. Containers are shared (`Rc<RefCell<..>>`)
//! like Python objects; immutable values are cheap to clone.

use super::ast::FuncDef;
use super::interp::{Interpreter, Scope};
use std::any::Any;
use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt;
use std::rc::Rc;

/// FNV-1a: a fast hasher for the interpreter's small string-keyed maps (names,
/// attributes) and for precomputed value hashes. Not DoS-resistant, which is
/// fine for transcripts.
#[derive(Default, Clone, Copy)]
pub struct Fnv(u64);

impl std::hash::Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 {
            0xcbf29ce484222325
        } else {
            self.0
        };
        for b in bytes {
            h ^= *b as u64;
            h = h.wrapping_mul(0x100000001b3);
        }
        self.0 = h;
    }
    fn write_u64(&mut self, n: u64) {
        // already a hash (Dict index) or a pointer/int: mix it once
        let h = if self.0 == 0 {
            0xcbf29ce484222325
        } else {
            self.0
        };
        self.0 = (h ^ n).wrapping_mul(0x100000001b3).rotate_left(29) ^ n;
    }
}

/// A `HashMap` with the [`Fnv`] hasher.
pub type FastMap<K, V> = HashMap<K, V, std::hash::BuildHasherDefault<Fnv>>;

/// A native function: receives the interpreter and the call's arguments. Methods
/// receive `self` as the first positional argument.
pub type NativeFn = dyn Fn(&mut Interpreter, Args) -> Result<Value, Exception>;

#[derive(Clone)]
pub enum Value {
    None,
    Ellipsis,
    NotImplemented,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(Rc<str>),
    Bytes(Rc<[u8]>),
    List(Rc<RefCell<Vec<Value>>>),
    Tuple(Rc<Vec<Value>>),
    Dict(Rc<RefCell<Dict>>),
    Set(Rc<RefCell<Dict>>),
    Range(i64, i64, i64),
    Slice(Rc<[Value; 3]>),
    Function(Rc<Function>),
    Native(Rc<NativeFunction>),
    /// A method bound to its receiver: (self, function).
    Bound(Rc<(Value, Value)>),
    Class(Rc<Class>),
    Instance(Rc<Instance>),
    Module(Rc<Module>),
    Iter(Rc<RefCell<Iter>>),
    /// `staticmethod`, `classmethod`, `property` wrappers around a callable.
    Descriptor(Rc<(DescKind, Value)>),
}

/// A property descriptor's (fget, fset): the payload is the getter alone, or a
/// `(fget, fset)` tuple once a setter is given (`None` for a missing one).
pub fn property_parts(payload: &Value) -> (Value, Value) {
    match payload {
        Value::Tuple(t) if t.len() == 2 => (t[0].clone(), t[1].clone()),
        other => (other.clone(), Value::None),
    }
}

/// A property descriptor from its getter and setter.
pub fn make_property(fget: Value, fset: Value) -> Value {
    let payload = if fset.is_none() && !fget.is_none() {
        fget
    } else {
        Value::tuple(vec![fget, fset])
    };
    Value::Descriptor(Rc::new((DescKind::Property, payload)))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DescKind {
    Static,
    ClassMethod,
    Property,
}

impl From<i64> for Value {
    fn from(v: i64) -> Value {
        Value::Int(v)
    }
}

impl From<f64> for Value {
    fn from(v: f64) -> Value {
        Value::Float(v)
    }
}

impl From<bool> for Value {
    fn from(v: bool) -> Value {
        Value::Bool(v)
    }
}

impl From<&str> for Value {
    fn from(v: &str) -> Value {
        Value::Str(v.into())
    }
}

impl From<String> for Value {
    fn from(v: String) -> Value {
        Value::Str(v.into())
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Value {
        v.map(Into::into).unwrap_or(Value::None)
    }
}

impl<T: Into<Value>> From<Vec<T>> for Value {
    /// A list.
    fn from(v: Vec<T>) -> Value {
        Value::list(v.into_iter().map(Into::into).collect())
    }
}

impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<{}>", self.type_name())
    }
}

impl Value {
    pub fn str(s: &str) -> Value {
        Value::Str(s.into())
    }
    pub fn list(items: Vec<Value>) -> Value {
        Value::List(Rc::new(RefCell::new(items)))
    }
    pub fn tuple(items: Vec<Value>) -> Value {
        Value::Tuple(Rc::new(items))
    }
    pub fn dict(d: Dict) -> Value {
        Value::Dict(Rc::new(RefCell::new(d)))
    }
    pub fn is_none(&self) -> bool {
        matches!(self, Value::None)
    }

    /// The Python type name used in error messages (`'int' object ...`).
    pub fn type_name(&self) -> String {
        match self {
            Value::None => "NoneType".into(),
            Value::Ellipsis => "ellipsis".into(),
            Value::NotImplemented => "NotImplementedType".into(),
            Value::Bool(_) => "bool".into(),
            Value::Int(_) => "int".into(),
            Value::Float(_) => "float".into(),
            Value::Str(_) => "str".into(),
            Value::Bytes(_) => "bytes".into(),
            Value::List(_) => "list".into(),
            Value::Tuple(_) => "tuple".into(),
            Value::Dict(_) => "dict".into(),
            Value::Set(_) => "set".into(),
            Value::Range(..) => "range".into(),
            Value::Slice(_) => "slice".into(),
            Value::Function(_) => "function".into(),
            Value::Native(_) => "builtin_function_or_method".into(),
            Value::Bound(_) => "method".into(),
            Value::Class(c) => match &*c.meta.borrow() {
                Some(m) => m.name.clone(),
                None => "type".into(),
            },
            Value::Instance(i) => i.class.name.clone(),
            Value::Module(_) => "module".into(),
            Value::Iter(it) => it.borrow().kind_name().into(),
            Value::Descriptor(d) => match d.0 {
                DescKind::Static => "staticmethod".into(),
                DescKind::ClassMethod => "classmethod".into(),
                DescKind::Property => "property".into(),
            },
        }
    }

    /// Identity for `is`: same object (or same immutable scalar).
    pub fn is(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::None, Value::None) | (Value::Ellipsis, Value::Ellipsis) => true,
            (Value::NotImplemented, Value::NotImplemented) => true,
            (Value::Bool(a), Value::Bool(b)) => a == b,
            (Value::Int(a), Value::Int(b)) => a == b,
            (Value::Float(a), Value::Float(b)) => a.to_bits() == b.to_bits(),
            (Value::Str(a), Value::Str(b)) => Rc::ptr_eq(a, b) || (a.len() <= 1 && a == b),
            (Value::List(a), Value::List(b)) => Rc::ptr_eq(a, b),
            (Value::Tuple(a), Value::Tuple(b)) => {
                Rc::ptr_eq(a, b) || (a.is_empty() && b.is_empty())
            }
            (Value::Dict(a), Value::Dict(b)) | (Value::Set(a), Value::Set(b)) => Rc::ptr_eq(a, b),
            (Value::Function(a), Value::Function(b)) => Rc::ptr_eq(a, b),
            (Value::Native(a), Value::Native(b)) => Rc::ptr_eq(a, b),
            (Value::Class(a), Value::Class(b)) => Rc::ptr_eq(a, b),
            (Value::Instance(a), Value::Instance(b)) => Rc::ptr_eq(a, b),
            (Value::Module(a), Value::Module(b)) => Rc::ptr_eq(a, b),
            (Value::Iter(a), Value::Iter(b)) => Rc::ptr_eq(a, b),
            (Value::Bound(a), Value::Bound(b)) => Rc::ptr_eq(a, b),
            _ => false,
        }
    }

    /// Truthiness for values that need no method call (instances are handled by the
    /// interpreter, which may call `__bool__`/`__len__`).
    pub fn plain_truth(&self) -> Option<bool> {
        Some(match self {
            Value::None => false,
            Value::Bool(b) => *b,
            Value::Int(i) => *i != 0,
            Value::Float(f) => *f != 0.0,
            Value::Str(s) => !s.is_empty(),
            Value::Bytes(b) => !b.is_empty(),
            Value::List(l) => !l.borrow().is_empty(),
            Value::Tuple(t) => !t.is_empty(),
            Value::Dict(d) | Value::Set(d) => !d.borrow().is_empty(),
            Value::Range(a, b, s) => range_len(*a, *b, *s) > 0,
            Value::Instance(_) => return None,
            _ => true,
        })
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// Structural equality of hashable keys (instances compare by identity).
    pub fn key_eq(&self, other: &Value) -> bool {
        self.key_eq_at(other, 0)
    }

    fn key_eq_at(&self, other: &Value, depth: usize) -> bool {
        if depth > 200 {
            return false;
        }
        match (self, other) {
            (Value::Int(a), Value::Int(b)) => a == b,
            (Value::Str(a), Value::Str(b)) => a == b,
            (Value::Bool(a), Value::Bool(b)) => a == b,
            (Value::Bool(a), Value::Int(b)) | (Value::Int(b), Value::Bool(a)) => *a as i64 == *b,
            (Value::Float(a), Value::Float(b)) => a == b,
            (Value::Float(a), Value::Int(b)) | (Value::Int(b), Value::Float(a)) => *a == *b as f64,
            (Value::Float(a), Value::Bool(b)) | (Value::Bool(b), Value::Float(a)) => {
                *a == *b as i64 as f64
            }
            (Value::Bytes(a), Value::Bytes(b)) => a == b,
            (Value::Tuple(a), Value::Tuple(b)) => {
                a.len() == b.len()
                    && a.iter()
                        .zip(b.iter())
                        .all(|(x, y)| x.key_eq_at(y, depth + 1))
            }
            (Value::Range(a, b, c), Value::Range(d, e, f)) => (a, b, c) == (d, e, f),
            (Value::Instance(a), Value::Instance(b)) => {
                match (&*a.key.borrow(), &*b.key.borrow()) {
                    (Some(x), Some(y)) => x.key_eq_at(y, depth + 1),
                    _ => Rc::ptr_eq(a, b),
                }
            }
            (Value::Instance(a), other) | (other, Value::Instance(a)) => match &*a.key.borrow() {
                Some(k @ (Value::Int(_) | Value::Float(_))) => k.key_eq_at(other, depth + 1),
                _ => false,
            },
            _ => self.is(other),
        }
    }

    /// Python-compatible hash for keys; `None` for unhashable values.
    pub fn hash(&self) -> Option<u64> {
        self.hash_at(0)
    }

    fn hash_at(&self, depth: usize) -> Option<u64> {
        use std::hash::{Hash, Hasher};
        if depth > 200 {
            return None;
        }
        let mut h = Fnv::default();
        match self {
            Value::None => 0u8.hash(&mut h),
            Value::Bool(b) => (*b as i64).hash(&mut h),
            Value::Int(i) => i.hash(&mut h),
            Value::Float(f) => {
                if f.fract() == 0.0 && f.abs() < 9.2e18 {
                    (*f as i64).hash(&mut h)
                } else {
                    f.to_bits().hash(&mut h)
                }
            }
            Value::Str(s) => s.hash(&mut h),
            Value::Bytes(b) => b.hash(&mut h),
            Value::Tuple(items) => {
                7u8.hash(&mut h);
                for i in items.iter() {
                    i.hash_at(depth + 1)?.hash(&mut h);
                }
            }
            Value::List(_) | Value::Dict(_) | Value::Set(_) | Value::Slice(_) => return None,
            Value::Range(a, b, c) => (a, b, c).hash(&mut h),
            Value::Instance(i) => {
                if let Some(k) = i.key.borrow().as_ref() {
                    return k.hash_at(depth + 1);
                }
                if i.class.lookup("__hash__").is_some_and(|v| v.is_none()) {
                    return None;
                }
                (Rc::as_ptr(i) as usize).hash(&mut h)
            }
            Value::Class(c) => (Rc::as_ptr(c) as usize).hash(&mut h),
            Value::Function(f) => (Rc::as_ptr(f) as usize).hash(&mut h),
            Value::Native(f) => (Rc::as_ptr(f) as *const u8 as usize).hash(&mut h),
            Value::Module(m) => (Rc::as_ptr(m) as usize).hash(&mut h),
            other => other.type_name().hash(&mut h),
        }
        Some(h.finish())
    }
}

/// The largest string or container the interpreter builds in one operation;
/// beyond it a MemoryError is raised instead of aborting the process.
pub const MAX_SIZE: usize = 1 << 28;

/// MemoryError when an operation would build something larger than [`MAX_SIZE`].
pub fn check_size(n: u128) -> Result<(), Exception> {
    if n > MAX_SIZE as u128 {
        return Err(Exception::with_args("MemoryError", vec![]));
    }
    Ok(())
}

pub fn range_len(start: i64, stop: i64, step: i64) -> i64 {
    if step > 0 && start < stop {
        ((stop as i128 - start as i128 - 1) / step as i128 + 1) as i64
    } else if step < 0 && start > stop {
        ((start as i128 - stop as i128 - 1) / (-(step as i128)) + 1) as i64
    } else {
        0
    }
}

/// An insertion-ordered hash map keyed by hashable values (also used for sets).
#[derive(Clone, Default)]
pub struct Dict {
    entries: Vec<Option<(Value, Value)>>,
    index: FastMap<u64, Vec<usize>>,
    len: usize,
    /// Sets only: how many leading items came from a constant set display
    /// (CPython lays those out differently; see `setorder`).
    pub literal_prefix: usize,
}

impl Dict {
    pub fn new() -> Dict {
        Dict::default()
    }
    pub fn len(&self) -> usize {
        self.len
    }
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
    fn find(&self, key: &Value, h: u64) -> Option<usize> {
        self.index
            .get(&h)?
            .iter()
            .copied()
            .find(|&i| self.entries[i].as_ref().is_some_and(|(k, _)| k.key_eq(key)))
    }
    /// Looks a key up; `Err` if the key is unhashable.
    pub fn get(&self, key: &Value) -> Result<Option<Value>, Exception> {
        let h = hash_or_err(key)?;
        Ok(self
            .find(key, h)
            .and_then(|i| self.entries[i].as_ref().map(|(_, v)| v.clone())))
    }
    pub fn get_str(&self, key: &str) -> Option<Value> {
        self.get(&Value::str(key)).ok().flatten()
    }
    pub fn contains(&self, key: &Value) -> Result<bool, Exception> {
        Ok(self.get(key)?.is_some())
    }
    pub fn insert(&mut self, key: Value, value: Value) -> Result<(), Exception> {
        let h = hash_or_err(&key)?;
        if let Some(i) = self.find(&key, h) {
            if let Some(e) = self.entries[i].as_mut() {
                e.1 = value;
            }
            return Ok(());
        }
        self.index.entry(h).or_default().push(self.entries.len());
        self.entries.push(Some((key, value)));
        self.len += 1;
        Ok(())
    }
    pub fn set_str(&mut self, key: &str, value: Value) {
        let _ = self.insert(Value::str(key), value);
    }
    pub fn remove(&mut self, key: &Value) -> Result<Option<Value>, Exception> {
        let h = hash_or_err(key)?;
        let Some(i) = self.find(key, h) else {
            return Ok(None);
        };
        if let Some(v) = self.index.get_mut(&h) {
            v.retain(|&j| j != i);
        }
        let old = self.entries[i].take().map(|(_, v)| v);
        self.len -= 1;
        self.literal_prefix = self.literal_prefix.min(self.len);
        if self.entries.len() > 32 && self.len * 2 < self.entries.len() {
            self.compact();
        }
        Ok(old)
    }
    fn compact(&mut self) {
        let entries: Vec<(Value, Value)> = self.entries.drain(..).flatten().collect();
        self.index.clear();
        self.len = 0;
        for (k, v) in entries {
            let _ = self.insert(k, v);
        }
    }
    pub fn clear(&mut self) {
        *self = Dict::default();
    }
    /// A set's items in CPython's iteration order (see `setorder`).
    pub fn set_order(&self) -> Vec<Value> {
        super::setorder::cpython_order_with(self.keys(), self.literal_prefix)
    }
    pub fn iter(&self) -> impl Iterator<Item = (&Value, &Value)> {
        self.entries.iter().flatten().map(|(k, v)| (k, v))
    }
    pub fn keys(&self) -> Vec<Value> {
        self.iter().map(|(k, _)| k.clone()).collect()
    }
    pub fn values(&self) -> Vec<Value> {
        self.iter().map(|(_, v)| v.clone()).collect()
    }
    pub fn items(&self) -> Vec<(Value, Value)> {
        self.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
    }
    pub fn pop_last(&mut self) -> Option<(Value, Value)> {
        let (k, _) = self.entries.iter().rev().flatten().next()?.clone();
        let v = self.remove(&k).ok().flatten()?;
        Some((k, v))
    }
}

fn hash_or_err(key: &Value) -> Result<u64, Exception> {
    key.hash().ok_or_else(|| {
        Exception::new(
            "TypeError",
            format!("unhashable type: '{}'", key.type_name()),
        )
    })
}

/// A script function: its definition plus defaults and captured scope.
pub struct Function {
    pub def: Rc<FuncDef>,
    pub qualname: String,
    pub defaults: Vec<Value>,
    pub kwdefaults: Vec<(Rc<str>, Value)>,
    pub globals: Rc<Scope>,
    pub closure: Option<Rc<Scope>>,
    pub filename: Rc<str>,
    pub module: Rc<str>,
    pub attrs: RefCell<FastMap<String, Value>>,
}

pub struct NativeFunction {
    pub name: String,
    pub func: Box<NativeFn>,
}

impl NativeFunction {
    pub fn value(
        name: &str,
        f: impl Fn(&mut Interpreter, Args) -> Result<Value, Exception> + 'static,
    ) -> Value {
        Value::Native(Rc::new(NativeFunction {
            name: name.to_string(),
            func: Box::new(f),
        }))
    }
}

/// A class: script-defined, native, builtin type, or exception.
pub struct Class {
    pub name: String,
    pub module: String,
    pub bases: Vec<Rc<Class>>,
    /// Method resolution order, excluding the class itself.
    pub mro: Vec<Rc<Class>>,
    pub attrs: RefCell<FastMap<String, Value>>,
    /// The metaclass when it is not `type` (`class X(metaclass=M)`, or inherited).
    pub meta: RefCell<Option<Rc<Class>>>,
}

impl Class {
    pub fn new(name: &str, module: &str, bases: Vec<Rc<Class>>) -> Class {
        let mut mro: Vec<Rc<Class>> = Vec::new();
        // Simplified C3: depth-first, keeping the last occurrence of shared bases.
        let mut order: Vec<Rc<Class>> = Vec::new();
        for b in &bases {
            order.push(b.clone());
            order.extend(b.mro.iter().cloned());
        }
        for (i, c) in order.iter().enumerate() {
            if !order[i + 1..].iter().any(|d| Rc::ptr_eq(c, d)) {
                mro.push(c.clone());
            }
        }
        Class {
            name: name.into(),
            module: module.into(),
            bases,
            mro,
            attrs: RefCell::new(FastMap::default()),
            meta: RefCell::new(None),
        }
    }
    pub fn lookup(&self, name: &str) -> Option<Value> {
        if let Some(v) = self.attrs.borrow().get(name) {
            return Some(v.clone());
        }
        for c in &self.mro {
            if let Some(v) = c.attrs.borrow().get(name) {
                return Some(v.clone());
            }
        }
        None
    }
    pub fn set(&self, name: &str, value: Value) {
        self.attrs.borrow_mut().insert(name.to_string(), value);
    }
    pub fn is_subclass(self: &Rc<Class>, other: &Rc<Class>) -> bool {
        Rc::ptr_eq(self, other) || self.mro.iter().any(|c| Rc::ptr_eq(c, other))
    }
    /// The name tracebacks print: qualified unless builtin or `__main__`.
    pub fn qualified_name(&self) -> String {
        if self.module.is_empty() || self.module == "builtins" || self.module == "__main__" {
            self.name.clone()
        } else {
            format!("{}.{}", self.module, self.name)
        }
    }
}

/// Instance attributes in assignment order (what `vars(obj)` shows).
#[derive(Default)]
pub struct AttrMap {
    index: FastMap<String, usize>,
    entries: Vec<Option<(String, Value)>>,
}

impl AttrMap {
    pub fn get(&self, name: &str) -> Option<&Value> {
        let i = *self.index.get(name)?;
        self.entries[i].as_ref().map(|(_, v)| v)
    }
    pub fn insert(&mut self, name: String, v: Value) {
        match self.index.get(&name) {
            Some(&i) => {
                if let Some(e) = self.entries[i].as_mut() {
                    e.1 = v;
                }
            }
            None => {
                self.index.insert(name.clone(), self.entries.len());
                self.entries.push(Some((name, v)));
            }
        }
    }
    pub fn remove(&mut self, name: &str) -> Option<Value> {
        let i = self.index.remove(name)?;
        let v = self.entries[i].take().map(|(_, v)| v);
        if self.entries.len() > 2 * self.index.len() + 8 {
            // drop tombstones so repeated set/del cycles stay bounded
            let live: Vec<(String, Value)> = self.entries.drain(..).flatten().collect();
            self.index.clear();
            for (k, x) in live {
                self.insert(k, x);
            }
        }
        v
    }
    pub fn contains_key(&self, name: &str) -> bool {
        self.index.contains_key(name)
    }
    pub fn iter(&self) -> impl Iterator<Item = (&String, &Value)> {
        self.entries.iter().flatten().map(|(k, v)| (k, v))
    }
    pub fn keys(&self) -> impl Iterator<Item = &String> {
        self.iter().map(|(k, _)| k)
    }
}

/// An object of a script or native class. `native` holds Rust state for bindings.
pub struct Instance {
    pub class: Rc<Class>,
    pub dict: RefCell<AttrMap>,
    pub native: RefCell<Option<Rc<dyn Any>>>,
    /// For native value types (Decimal, date...): a plain value standing for the
    /// object as a dict/set key, so equal objects hash and compare equal as keys.
    pub key: RefCell<Option<Value>>,
    /// Exceptions: the traceback recorded when the exception was caught (for
    /// chained reports: "During handling of the above exception...").
    pub traceback: RefCell<Option<Vec<TraceFrame>>>,
}

impl Instance {
    pub fn new(class: Rc<Class>) -> Rc<Instance> {
        Rc::new(Instance {
            key: RefCell::new(None),
            traceback: RefCell::new(None),
            class,
            dict: RefCell::new(AttrMap::default()),
            native: RefCell::new(None),
        })
    }
    pub fn get(&self, name: &str) -> Option<Value> {
        self.dict.borrow().get(name).cloned()
    }
    pub fn set(&self, name: &str, v: Value) {
        self.dict.borrow_mut().insert(name.to_string(), v);
    }
    /// The native state, if it has type `T`.
    pub fn native<T: 'static>(&self) -> Option<Rc<T>> {
        let n = self.native.borrow().clone()?;
        n.downcast::<T>().ok()
    }
    pub fn set_native<T: 'static>(&self, state: T) {
        *self.native.borrow_mut() = Some(Rc::new(state));
    }
}

/// A module: a name and an attribute namespace.
pub struct Module {
    pub name: String,
    pub attrs: RefCell<FastMap<String, Value>>,
    /// Names in definition order (for `from m import *` and stable listings).
    pub order: RefCell<Vec<String>>,
}

impl Module {
    pub fn new(name: &str) -> Module {
        Module {
            name: name.into(),
            attrs: RefCell::new(FastMap::default()),
            order: RefCell::new(Vec::new()),
        }
    }
    pub fn set(&self, name: &str, v: Value) {
        if self
            .attrs
            .borrow_mut()
            .insert(name.to_string(), v)
            .is_none()
        {
            self.order.borrow_mut().push(name.to_string());
        }
    }
    pub fn get(&self, name: &str) -> Option<Value> {
        self.attrs.borrow().get(name).cloned()
    }
    /// Adds a native function attribute.
    pub fn add_fn(
        &self,
        name: &str,
        f: impl Fn(&mut Interpreter, Args) -> Result<Value, Exception> + 'static,
    ) {
        self.set(name, NativeFunction::value(name, f));
    }
}

/// Iterator state. Lists iterate live (by index); other sources are snapshots.
pub enum Iter {
    List(Rc<RefCell<Vec<Value>>>, usize),
    Seq(Vec<Value>, usize),
    Range(i64, i64, i64),
    /// A generator, run eagerly: each item with the output its body wrote before
    /// yielding it (replayed when the item is taken, so prints interleave as in
    /// CPython), the output after the last yield, and an exception the body raised
    /// after its items (delivered when the consumer gets there).
    Gen {
        items: Vec<(Value, String)>,
        idx: usize,
        trailing: Option<String>,
        error: Option<Exception>,
    },
    /// A lazy generator between items (see `generator.rs`).
    Lazy(Box<super::generator::GenState>),
    /// A lazy generator while its body runs.
    Running,
    Done,
}

impl Iter {
    fn kind_name(&self) -> &'static str {
        match self {
            Iter::List(..) => "list_iterator",
            Iter::Range(..) => "range_iterator",
            Iter::Seq(..) => "iterator",
            Iter::Gen { .. } | Iter::Lazy(_) | Iter::Running => "generator",
            _ => "iterator",
        }
    }
    pub fn next_value(&mut self) -> Result<Option<Value>, Exception> {
        if let Iter::Gen {
            items,
            idx,
            trailing,
            error,
        } = self
        {
            if let Some((v, out)) = items.get_mut(*idx) {
                super::output::write(out);
                out.clear();
                *idx += 1;
                return Ok(Some(v.clone()));
            }
            if let Some(t) = trailing.take() {
                super::output::write(&t);
            }
            return match error.take() {
                Some(e) => Err(e),
                None => Ok(None),
            };
        }
        Ok(self.next_plain())
    }

    fn next_plain(&mut self) -> Option<Value> {
        match self {
            Iter::List(l, i) => {
                let v = l.borrow().get(*i).cloned();
                *i += 1;
                v
            }
            Iter::Seq(v, i) => {
                let r = v.get(*i).cloned();
                *i += 1;
                r
            }
            Iter::Range(cur, stop, step) => {
                if (*step > 0 && *cur < *stop) || (*step < 0 && *cur > *stop) {
                    let v = *cur;
                    *cur = cur.saturating_add(*step);
                    if *cur == v {
                        *self = Iter::Done;
                    }
                    Some(Value::Int(v))
                } else {
                    None
                }
            }
            Iter::Gen { .. } | Iter::Lazy(_) | Iter::Running | Iter::Done => None,
        }
    }
}

/// Call arguments: positional values and keyword (name, value) pairs.
#[derive(Default, Clone)]
pub struct Args {
    pub pos: Vec<Value>,
    pub kw: Vec<(Rc<str>, Value)>,
}

impl Args {
    pub fn new(pos: Vec<Value>) -> Args {
        Args {
            pos,
            kw: Vec::new(),
        }
    }
    /// The keyword argument `name`, if given.
    pub fn kwarg(&self, name: &str) -> Option<&Value> {
        self.kw.iter().find(|(k, _)| &**k == name).map(|(_, v)| v)
    }

    /// Positional argument `i`, or a TypeError when it is missing.
    pub fn arg(&self, i: usize) -> Result<&Value, Exception> {
        self.pos.get(i).ok_or_else(|| {
            Exception::type_error(format!(
                "expected at least {} argument{}, got {}",
                i + 1,
                if i == 0 { "" } else { "s" },
                self.pos.len()
            ))
        })
    }

    pub fn with_kw(mut self, name: &str, v: Value) -> Args {
        self.kw.push((name.into(), v));
        self
    }
    /// Binds positional and keyword arguments to the parameter names, CPython-style.
    /// `required` parameters come first; the rest are optional (`None` when absent).
    /// Errors read like CPython's: `f() missing 1 required positional argument: 'x'`.
    pub fn bind(
        &self,
        fname: &str,
        params: &[&str],
        required: usize,
    ) -> Result<Vec<Option<Value>>, Exception> {
        let mut out: Vec<Option<Value>> = vec![None; params.len()];
        if self.pos.len() > params.len() {
            let takes = if required == params.len() {
                format!(
                    "{} positional argument{}",
                    params.len(),
                    if params.len() == 1 { "" } else { "s" }
                )
            } else {
                format!("from {} to {} positional arguments", required, params.len())
            };
            return Err(Exception::type_error(format!(
                "{fname}() takes {takes} but {} {} given",
                self.pos.len(),
                if self.pos.len() == 1 { "was" } else { "were" }
            )));
        }
        for (i, v) in self.pos.iter().enumerate() {
            out[i] = Some(v.clone());
        }
        for (k, v) in &self.kw {
            let Some(i) = params.iter().position(|p| **p == **k) else {
                return Err(Exception::type_error(format!(
                    "{fname}() got an unexpected keyword argument '{k}'"
                )));
            };
            if out[i].is_some() {
                return Err(Exception::type_error(format!(
                    "{fname}() got multiple values for argument '{k}'"
                )));
            }
            out[i] = Some(v.clone());
        }
        let missing: Vec<String> = (0..required)
            .filter(|&i| out[i].is_none())
            .map(|i| format!("'{}'", params[i]))
            .collect();
        if !missing.is_empty() {
            return Err(Exception::type_error(format!(
                "{fname}() missing {} required positional argument{}: {}",
                missing.len(),
                if missing.len() == 1 { "" } else { "s" },
                join_names(&missing)
            )));
        }
        Ok(out)
    }
    /// Requires no keyword arguments and between `min` and `max` positional ones.
    pub fn positional(&self, fname: &str, min: usize, max: usize) -> Result<&[Value], Exception> {
        if let Some((k, _)) = self.kw.first() {
            return Err(
                Exception::type_error(format!("{fname}() takes no keyword arguments")).with_hint(k),
            );
        }
        let n = self.pos.len();
        if n < min || n > max {
            let msg = if min == max {
                match min {
                    0 => format!("{fname}() takes no arguments ({n} given)"),
                    1 => format!("{fname}() takes exactly one argument ({n} given)"),
                    _ => format!("{fname} expected {min} arguments, got {n}"),
                }
            } else if n < min {
                format!(
                    "{fname} expected at least {min} argument{}, got {n}",
                    if min == 1 { "" } else { "s" }
                )
            } else {
                format!(
                    "{fname} expected at most {max} argument{}, got {n}",
                    if max == 1 { "" } else { "s" }
                )
            };
            return Err(Exception::type_error(msg));
        }
        Ok(&self.pos)
    }
}

/// `'a', 'b' and 'c'` as CPython lists missing arguments.
pub fn join_names(names: &[String]) -> String {
    match names.len() {
        0 => String::new(),
        1 => names[0].clone(),
        2 => format!("{} and {}", names[0], names[1]),
        n => format!("{}, and {}", names[..n - 1].join(", "), names[n - 1]),
    }
}

/// One traceback entry.
#[derive(Clone, Debug)]
pub struct TraceFrame {
    pub filename: Rc<str>,
    pub line: usize,
    pub name: Rc<str>,
}

/// A raised exception travelling up the Rust stack. Builtin exceptions raised by
/// value-level code are created by class name and materialized into an instance by
/// the interpreter when a handler or a report needs one.
pub struct Exception(pub Box<ExcInner>);

pub struct ExcInner {
    pub value: ExcValue,
    pub frames: Vec<TraceFrame>,
    /// The exception being handled when this one was raised (implicit chaining) is
    /// not tracked; `raise X from Y` stores Y on the instance as `__cause__`.
    pub _private: (),
}

pub enum ExcValue {
    Pending {
        class: &'static str,
        args: Vec<Value>,
    },
    Instance(Rc<Instance>),
}

impl fmt::Debug for Exception {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Exception({}: {})",
            self.class_name(),
            self.plain_message()
        )
    }
}

impl Exception {
    /// A builtin exception by class name (`"ValueError"`) with one message argument.
    pub fn new(class: &'static str, message: impl Into<String>) -> Exception {
        Exception::with_args(class, vec![Value::Str(message.into().into())])
    }
    pub fn with_args(class: &'static str, args: Vec<Value>) -> Exception {
        Exception(Box::new(ExcInner {
            value: ExcValue::Pending { class, args },
            frames: Vec::new(),
            _private: (),
        }))
    }
    pub fn from_instance(inst: Rc<Instance>) -> Exception {
        Exception(Box::new(ExcInner {
            value: ExcValue::Instance(inst),
            frames: Vec::new(),
            _private: (),
        }))
    }
    pub fn type_error(message: impl Into<String>) -> Exception {
        Exception::new("TypeError", message)
    }
    pub fn value_error(message: impl Into<String>) -> Exception {
        Exception::new("ValueError", message)
    }
    fn with_hint(self, _k: &str) -> Exception {
        self
    }
    pub fn class_name(&self) -> String {
        match &self.0.value {
            ExcValue::Pending { class, .. } => class.to_string(),
            ExcValue::Instance(i) => i.class.qualified_name(),
        }
    }
    /// str(exc) for pending builtin exceptions and instances whose args are plain.
    pub fn plain_message(&self) -> String {
        let args = match &self.0.value {
            ExcValue::Pending { args, .. } => args.clone(),
            ExcValue::Instance(i) => match i.get("args") {
                Some(Value::Tuple(t)) => t.to_vec(),
                _ => vec![],
            },
        };
        match args.as_slice() {
            [] => String::new(),
            [Value::Str(s)] => s.to_string(),
            [other] => super::format::plain_repr(other),
            many => super::format::plain_repr(&Value::tuple(many.to_vec())),
        }
    }
    pub fn is_pending(&self, class: &str) -> bool {
        matches!(&self.0.value, ExcValue::Pending { class: c, .. } if *c == class)
    }
}
