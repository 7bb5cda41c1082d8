//! `open()`: read-only files relative to the transcript's directory.

use super::*;

struct FileState {
    text: Option<String>,
    bytes: Vec<u8>,
    pos: RefCell<usize>,
}

/// `open(path, mode='r')`: read-only, relative to the transcript's directory.
pub fn open(it: &mut Interpreter, a: Args) -> R<Value> {
    let p = a.bind(
        "open",
        &["file", "mode", "buffering", "encoding", "errors", "newline"],
        1,
    )?;
    let path = arg_str(
        p[0].as_ref().unwrap_or(&Value::None),
        "open() argument 'file'",
    )?;
    let mode = match &p[1] {
        Some(v) => arg_str(v, "open() argument 'mode'")?.to_string(),
        None => "r".into(),
    };
    if mode.contains(['w', 'a', 'x', '+']) {
        return Err(Exception::new(
            "NotImplementedError",
            format!(
                "open() mode {} is not supported: transcripts may only read files",
                py_str_repr(&mode)
            ),
        ));
    }
    let full = super::os::resolve(it, &path);
    let bytes = std::fs::read(&full).map_err(|e| {
        let (cls, errno, msg) = match e.kind() {
            std::io::ErrorKind::NotFound => ("FileNotFoundError", 2, "No such file or directory"),
            std::io::ErrorKind::PermissionDenied => ("PermissionError", 13, "Permission denied"),
            _ if full.is_dir() => ("IsADirectoryError", 21, "Is a directory"),
            _ => ("OSError", 5, "Input/output error"),
        };
        Exception::new(
            cls,
            format!("[Errno {errno}] {msg}: {}", py_str_repr(&path)),
        )
    })?;
    let text = if mode.contains('b') {
        None
    } else {
        Some(String::from_utf8(bytes.clone()).map_err(|_| {
            Exception::new("UnicodeDecodeError", "'utf-8' codec can't decode the file")
        })?)
    };
    let class = file_class(it);
    let inst = Instance::new(class);
    inst.set("name", Value::Str(path));
    inst.set("mode", Value::str(&mode));
    inst.set_native(FileState {
        text,
        bytes,
        pos: RefCell::new(0),
    });
    Ok(Value::Instance(inst))
}

fn file_class(it: &mut Interpreter) -> Rc<Class> {
    thread_local! {
        static CLASS: RefCell<Option<Rc<Class>>> = const { RefCell::new(None) };
    }
    if let Some(c) = CLASS.with(|c| c.borrow().clone()) {
        return c;
    }
    fn rest(f: &FileState) -> Value {
        let mut pos = f.pos.borrow_mut();
        match &f.text {
            Some(t) => {
                let s = &t[(*pos).min(t.len())..];
                *pos = t.len();
                Value::str(s)
            }
            None => {
                let b = &f.bytes[(*pos).min(f.bytes.len())..];
                *pos = f.bytes.len();
                Value::Bytes(b.to_vec().into())
            }
        }
    }
    fn lines(f: &FileState) -> Vec<Value> {
        let mut pos = f.pos.borrow_mut();
        let t = f.text.as_deref().unwrap_or("");
        let s = &t[(*pos).min(t.len())..];
        *pos = t.len();
        s.split_inclusive('\n').map(Value::str).collect()
    }
    let unsupported = ClassBuilder::exception(
        it,
        "UnsupportedOperation",
        "io",
        Some(it.builtin_exception("OSError")),
    )
    .build();
    let c = ClassBuilder::new(it, "TextIOWrapper", "_io")
        .method("read", |_, this, _| {
            let f = state_of::<FileState>(this, "file")?;
            Ok(rest(&f))
        })
        .method("readlines", |_, this, _| {
            let f = state_of::<FileState>(this, "file")?;
            Ok(Value::list(lines(&f)))
        })
        .method("readline", |_, this, _| {
            let f = state_of::<FileState>(this, "file")?;
            let t = f.text.as_deref().unwrap_or("");
            let mut pos = f.pos.borrow_mut();
            let s = &t[(*pos).min(t.len())..];
            let line = match s.find('\n') {
                Some(i) => &s[..=i],
                None => s,
            };
            *pos += line.len();
            Ok(Value::str(line))
        })
        .method("__iter__", |_, this, _| {
            let f = state_of::<FileState>(this, "file")?;
            let items = lines(&f);
            Ok(Value::Iter(Rc::new(RefCell::new(Iter::Seq(items, 0)))))
        })
        .method("close", |_, _, _| Ok(Value::None))
        .method("__enter__", |_, this, _| Ok(this.clone()))
        .method("__exit__", |_, _, _| Ok(Value::Bool(false)))
        .method("write", move |_, _, _| {
            Err(crate::script::native::raise(&unsupported, "not writable"))
        })
        .build();
    CLASS.with(|cell| *cell.borrow_mut() = Some(c.clone()));
    c
}
