//! Attribute access (`getattr`/`setattr`) with CPython's lookup order and
//! messages, and the type of every value.

use super::interp::*;
use super::value::*;
use std::rc::Rc;

impl Interpreter {
    pub fn type_of(&self, v: &Value) -> Rc<Class> {
        let t = &self.types;
        match v {
            Value::None => t.none.clone(),
            Value::Ellipsis => t.ellipsis.clone(),
            Value::NotImplemented => t.not_impl.clone(),
            Value::Bool(_) => t.bool_.clone(),
            Value::Int(_) => t.int.clone(),
            Value::Float(_) => t.float.clone(),
            Value::Str(_) => t.str_.clone(),
            Value::Bytes(_) => t.bytes.clone(),
            Value::List(_) => t.list.clone(),
            Value::Tuple(_) => t.tuple.clone(),
            Value::Dict(_) => t.dict.clone(),
            Value::Set(_) => t.set.clone(),
            Value::Range(..) => t.range.clone(),
            Value::Slice(_) => t.slice.clone(),
            Value::Function(_) => t.function.clone(),
            Value::Native(_) => t.builtin_fn.clone(),
            Value::Bound(_) => t.method.clone(),
            Value::Class(c) => match &*c.meta.borrow() {
                Some(m) => m.clone(),
                None => t.type_.clone(),
            },
            Value::Instance(i) => i.class.clone(),
            Value::Module(_) => t.module.clone(),
            Value::Iter(it) => match &*it.borrow() {
                Iter::List(..) => t.list_iterator.clone(),
                Iter::Range(..) => t.range_iterator.clone(),
                Iter::Gen { .. } | Iter::Lazy(_) | Iter::Running => t.generator.clone(),
                _ => t.iterator.clone(),
            },
            Value::Descriptor(d) => match d.0 {
                DescKind::Static => t.staticmethod.clone(),
                DescKind::ClassMethod => t.classmethod.clone(),
                DescKind::Property => t.property.clone(),
            },
        }
    }

    /// `getattr(obj, name)` with CPython's lookup order and error messages.
    pub fn get_attr(&mut self, obj: &Value, name: &str) -> R<Value> {
        match obj {
            Value::Instance(inst) => {
                if let Some(v) = inst.get(name) {
                    return Ok(v);
                }
                if let Some(v) = inst.class.lookup(name) {
                    if let Value::Descriptor(d) = &v {
                        if d.0 == DescKind::Property {
                            let getter = property_parts(&d.1).0;
                            return self.call(&getter, Args::new(vec![obj.clone()]));
                        }
                    }
                    return Ok(self.bind(obj.clone(), v));
                }
                match name {
                    "__class__" => return Ok(Value::Class(inst.class.clone())),
                    "__dict__" => {
                        let mut d = Dict::new();
                        for (k, v) in inst.dict.borrow().iter() {
                            d.set_str(k, v.clone());
                        }
                        return Ok(Value::dict(d));
                    }
                    _ => {}
                }
                if let Some(ga) = inst.class.lookup("__getattr__") {
                    let f = self.bind(obj.clone(), ga);
                    return self.call(&f, Args::new(vec![Value::str(name)]));
                }
                Err(attr_err(format!(
                    "'{}' object has no attribute '{name}'",
                    inst.class.name
                )))
            }
            Value::Class(c) => {
                if let Some(v) = c.lookup(name) {
                    return Ok(match &v {
                        Value::Descriptor(d) if d.0 == DescKind::Static => d.1.clone(),
                        Value::Descriptor(d) if d.0 == DescKind::ClassMethod => {
                            Value::Bound(Rc::new((obj.clone(), d.1.clone())))
                        }
                        _ => v,
                    });
                }
                match name {
                    "__name__" | "__qualname__" => Ok(Value::str(&c.name)),
                    "__module__" => Ok(Value::str(&c.module)),
                    "__bases__" => Ok(Value::tuple(
                        c.bases.iter().map(|b| Value::Class(b.clone())).collect(),
                    )),
                    "__mro__" => {
                        let mut v = vec![obj.clone()];
                        v.extend(c.mro.iter().map(|b| Value::Class(b.clone())));
                        Ok(Value::tuple(v))
                    }
                    "__class__" => Ok(Value::Class(self.type_of(obj))),
                    "__doc__" => Ok(Value::None),
                    _ if c.meta.borrow().is_some() => {
                        // methods and properties of the metaclass
                        let meta = self.type_of(obj);
                        match meta.lookup(name) {
                            Some(Value::Descriptor(d)) if d.0 == DescKind::Property => {
                                let getter = property_parts(&d.1).0;
                                self.call(&getter, Args::new(vec![obj.clone()]))
                            }
                            Some(v) => Ok(self.bind(obj.clone(), v)),
                            None => Err(attr_err(format!(
                                "type object '{}' has no attribute '{name}'",
                                c.name
                            ))),
                        }
                    }
                    _ => Err(attr_err(format!(
                        "type object '{}' has no attribute '{name}'",
                        c.name
                    ))),
                }
            }
            Value::Module(m) => match m.get(name) {
                Some(v) => Ok(v),
                None if name == "__name__" => Ok(Value::str(&m.name)),
                None => {
                    // submodule registered but not yet attached
                    let full = format!("{}.{}", m.name, name);
                    if self.modules.contains_key(&full) {
                        return Ok(Value::Module(self.modules[&full].clone()));
                    }
                    Err(attr_err(format!(
                        "module '{}' has no attribute '{name}'",
                        m.name
                    )))
                }
            },
            Value::Function(f) => match name {
                "__name__" => Ok(Value::str(&f.def.name)),
                "__qualname__" => Ok(Value::str(&f.qualname)),
                "__module__" => Ok(Value::Str(f.module.clone())),
                "__doc__" => Ok(Value::None),
                _ => match f.attrs.borrow().get(name) {
                    Some(v) => Ok(v.clone()),
                    None => Err(attr_err(format!(
                        "'function' object has no attribute '{name}'"
                    ))),
                },
            },
            Value::Native(f) if name == "__name__" => Ok(Value::str(&f.name)),
            Value::Bound(b) if name == "__self__" => Ok(b.0.clone()),
            Value::Bound(b) if name == "__func__" => Ok(b.1.clone()),
            Value::Bound(b) if name == "__name__" => {
                let inner = b.1.clone();
                self.get_attr(&inner, name)
            }
            _ => {
                let cls = self.type_of(obj);
                if let Some(v) = cls.lookup(name) {
                    if let Value::Descriptor(d) = &v {
                        if d.0 == DescKind::Property {
                            let getter = property_parts(&d.1).0;
                            return self.call(&getter, Args::new(vec![obj.clone()]));
                        }
                    }
                    return Ok(self.bind(obj.clone(), v));
                }
                if name == "__class__" {
                    return Ok(Value::Class(cls));
                }
                Err(attr_err(format!(
                    "'{}' object has no attribute '{name}'",
                    obj.type_name()
                )))
            }
        }
    }

    pub fn set_attr(&mut self, obj: &Value, name: &str, v: Value) -> R<()> {
        match obj {
            Value::Instance(inst) => {
                if let Some(sa) = inst.class.lookup("__setattr__") {
                    let f = self.bind(obj.clone(), sa);
                    self.call(&f, Args::new(vec![Value::str(name), v]))?;
                    return Ok(());
                }
                if let Some(Value::Descriptor(d)) = inst.class.lookup(name) {
                    if d.0 == DescKind::Property {
                        let setter = property_parts(&d.1).1;
                        if !setter.is_none() {
                            self.call(&setter, Args::new(vec![obj.clone(), v]))?;
                            return Ok(());
                        }
                        return Err(attr_err(format!(
                            "property '{name}' of '{}' object has no setter",
                            inst.class.name
                        )));
                    }
                }
                inst.set(name, v);
                Ok(())
            }
            Value::Class(c) => {
                c.set(name, v);
                Ok(())
            }
            Value::Module(m) => {
                m.set(name, v);
                Ok(())
            }
            Value::Function(f) => {
                f.attrs.borrow_mut().insert(name.to_string(), v);
                Ok(())
            }
            _ => {
                let has = self.type_of(obj).lookup(name).is_some();
                Err(attr_err(if has {
                    format!(
                        "'{}' object attribute '{name}' is read-only",
                        obj.type_name()
                    )
                } else {
                    format!("'{}' object has no attribute '{name}'", obj.type_name())
                }))
            }
        }
    }
}
