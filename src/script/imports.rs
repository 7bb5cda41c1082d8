//! Imports: the module registry, standard modules created on first import,
//! and registration of native modules with their parent packages.

use super::interp::*;
use super::value::*;
use std::rc::Rc;

impl Interpreter {
    pub fn import_module(&mut self, name: &str) -> R<Rc<Module>> {
        if let Some(m) = self.modules.get(name) {
            return Ok(m.clone());
        }
        if let Some(m) = super::stdlib::create(self, name) {
            let m = Rc::new(m);
            self.modules.insert(name.to_string(), m.clone());
            if let Some((parent, child)) = name.rsplit_once('.') {
                let p = self.import_module(parent)?;
                p.set(child, Value::Module(m.clone()));
            }
            return Ok(m);
        }
        let top = name.split('.').next().unwrap_or(name);
        if CPYTHON_STDLIB.contains(&top) {
            return Err(Exception::new(
                "NotImplementedError",
                format!("module '{name}' is not supported by the harness's Python subset (supported: sys, os, os.path, time, json, pprint, datetime, decimal)"),
            ));
        }
        Err(Exception::new(
            "ModuleNotFoundError",
            format!("No module named '{name}'"),
        ))
    }

    /// Registers a module (and its parent packages) under a dotted name.
    pub fn register_module(&mut self, name: &str, module: Module) {
        let m = Rc::new(module);
        let mut parent_name = String::new();
        let parts: Vec<&str> = name.split('.').collect();
        for (i, part) in parts.iter().enumerate() {
            let full = if parent_name.is_empty() {
                part.to_string()
            } else {
                format!("{parent_name}.{part}")
            };
            let this = if i + 1 == parts.len() {
                self.modules.insert(full.clone(), m.clone());
                m.clone()
            } else {
                self.modules
                    .entry(full.clone())
                    .or_insert_with(|| Rc::new(Module::new(&full)))
                    .clone()
            };
            if !parent_name.is_empty() {
                if let Some(p) = self.modules.get(&parent_name) {
                    p.set(part, Value::Module(this));
                }
            }
            parent_name = full;
        }
    }
}

/// CPython standard modules we do not provide: importing one is a clear
/// NotImplementedError rather than CPython-contradicting ModuleNotFoundError.
const CPYTHON_STDLIB: &[&str] = &[
    "abc",
    "argparse",
    "array",
    "ast",
    "asyncio",
    "base64",
    "binascii",
    "bisect",
    "calendar",
    "cmath",
    "codecs",
    "collections",
    "configparser",
    "contextlib",
    "copy",
    "csv",
    "ctypes",
    "dataclasses",
    "difflib",
    "doctest",
    "email",
    "enum",
    "errno",
    "fnmatch",
    "fractions",
    "functools",
    "gc",
    "getpass",
    "glob",
    "gzip",
    "hashlib",
    "heapq",
    "hmac",
    "html",
    "http",
    "importlib",
    "inspect",
    "io",
    "ipaddress",
    "itertools",
    "locale",
    "logging",
    "math",
    "mimetypes",
    "multiprocessing",
    "numbers",
    "operator",
    "pathlib",
    "pickle",
    "platform",
    "queue",
    "random",
    "re",
    "secrets",
    "select",
    "shlex",
    "shutil",
    "signal",
    "socket",
    "sqlite3",
    "ssl",
    "stat",
    "statistics",
    "string",
    "struct",
    "subprocess",
    "tempfile",
    "textwrap",
    "threading",
    "timeit",
    "traceback",
    "types",
    "typing",
    "unittest",
    "urllib",
    "uuid",
    "warnings",
    "weakref",
    "xml",
    "zipfile",
    "zlib",
    "zoneinfo",
];
