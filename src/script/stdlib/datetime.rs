//! `datetime`: date, datetime, time, timedelta with CPython's reprs, str and arithmetic.

use super::*;
use chrono::{Datelike, NaiveDate, NaiveDateTime, NaiveTime, Timelike};

/// timedelta state: total microseconds.
struct Delta(i64);
struct DateS(NaiveDate);
struct DateTimeS(NaiveDateTime);
struct TimeS(NaiveTime);

fn time_key(t: &NaiveTime) -> Value {
    Value::tuple(vec![Value::str("time"), Value::Int(time_micros(t))])
}

fn time_micros(t: &NaiveTime) -> i64 {
    t.num_seconds_from_midnight() as i64 * 1_000_000 + (t.nanosecond() / 1000) as i64
}

/// `datetime.time(12, 34, 56)`: trailing zero seconds and microseconds omitted.
fn time_repr(t: &NaiveTime) -> String {
    format!("datetime.time({})", time_repr_args(t))
}

/// `hour, minute[, second[, microsecond]]` as the reprs of time and datetime
/// write them.
fn time_repr_args(t: &NaiveTime) -> String {
    let mut s = format!("{}, {}", t.hour(), t.minute());
    let us = t.nanosecond() / 1000;
    if t.second() != 0 || us != 0 {
        s.push_str(&format!(", {}", t.second()));
    }
    if us != 0 {
        s.push_str(&format!(", {us}"));
    }
    s
}

/// `time.isoformat(timespec)`.
fn time_iso(t: &NaiveTime, timespec: &str) -> R<String> {
    let us = t.nanosecond() / 1000;
    let hm = format!("{:02}:{:02}", t.hour(), t.minute());
    let hms = format!("{hm}:{:02}", t.second());
    Ok(match timespec {
        "auto" if us == 0 => hms,
        "auto" | "microseconds" => format!("{hms}.{us:06}"),
        "hours" => format!("{:02}", t.hour()),
        "minutes" => hm,
        "seconds" => hms,
        "milliseconds" => format!("{hms}.{:03}", us / 1000),
        _ => return Err(Exception::value_error("Unknown timespec value")),
    })
}

/// `hour`, `minute`, `second`, `microsecond`, `tzinfo` of a time of day; other
/// names are an AttributeError of `class`.
fn time_attr(t: &NaiveTime, name: Option<&str>, class: &str) -> R<Value> {
    Ok(Value::Int(match name {
        Some("hour") => t.hour() as i64,
        Some("minute") => t.minute() as i64,
        Some("second") => t.second() as i64,
        Some("microsecond") => (t.nanosecond() / 1000) as i64,
        Some("tzinfo") => return Ok(Value::None),
        Some(n) => {
            return Err(Exception::new(
                "AttributeError",
                format!("'{class}' object has no attribute '{n}'"),
            ))
        }
        None => return Err(Exception::type_error("attribute name must be string")),
    }))
}

/// `time.strftime`: a time formats as on 1900-01-01, as in CPython.
fn time_strftime(this: &Value, f: &str) -> R<Value> {
    let t = state_of::<TimeS>(this, "time")?.0;
    strftime(
        &NaiveDate::from_ymd_opt(1900, 1, 1)
            .unwrap_or_default()
            .and_time(t),
        f,
    )
}

/// Hour, minute, second, microsecond with CPython's range errors.
fn make_time(h: i64, mi: i64, s: i64, us: i64) -> R<NaiveTime> {
    for (v, hi, what) in [
        (h, 23, "hour must be in 0..23"),
        (mi, 59, "minute must be in 0..59"),
        (s, 59, "second must be in 0..59"),
        (us, 999_999, "microsecond must be in 0..999999"),
    ] {
        if v < 0 || v > hi {
            return Err(Exception::value_error(what));
        }
    }
    NaiveTime::from_hms_micro_opt(h as u32, mi as u32, s as u32, us as u32)
        .ok_or_else(|| Exception::value_error("invalid time"))
}

fn delta_key(us: i64) -> Value {
    Value::tuple(vec![Value::str("timedelta"), Value::Int(us)])
}

fn date_key(d: &NaiveDate) -> Value {
    Value::tuple(vec![
        Value::str("date"),
        Value::Int(d.num_days_from_ce() as i64),
    ])
}

fn datetime_key(d: &NaiveDateTime) -> Value {
    Value::tuple(vec![
        Value::str("datetime"),
        Value::Int(d.and_utc().timestamp_micros()),
    ])
}

fn delta_parts(us: i64) -> (i64, i64, i64) {
    let day = 86_400_000_000i64;
    let days = us.div_euclid(day);
    let rem = us.rem_euclid(day);
    (days, rem / 1_000_000, rem % 1_000_000)
}

fn delta_repr(us: i64) -> String {
    let (d, s, u) = delta_parts(us);
    let mut parts = Vec::new();
    if d != 0 {
        parts.push(format!("days={d}"));
    }
    if s != 0 {
        parts.push(format!("seconds={s}"));
    }
    if u != 0 {
        parts.push(format!("microseconds={u}"));
    }
    if parts.is_empty() {
        "datetime.timedelta(0)".into()
    } else {
        format!("datetime.timedelta({})", parts.join(", "))
    }
}

fn delta_str(us: i64) -> String {
    let (d, s, u) = delta_parts(us);
    let mut out = String::new();
    if d != 0 {
        out = format!("{d} day{}, ", if d.abs() != 1 { "s" } else { "" });
    }
    out.push_str(&format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60));
    if u != 0 {
        out.push_str(&format!(".{u:06}"));
    }
    out
}

fn dt_repr(dt: &NaiveDateTime) -> String {
    format!(
        "datetime.datetime({}, {}, {}, {})",
        dt.year(),
        dt.month(),
        dt.day(),
        time_repr_args(&dt.time())
    )
}

fn dt_iso(dt: &NaiveDateTime, sep: &str) -> String {
    let us = dt.nanosecond() / 1000;
    let mut s = format!(
        "{}{sep}{:02}:{:02}:{:02}",
        dt.date().format("%Y-%m-%d"),
        dt.hour(),
        dt.minute(),
        dt.second()
    );
    if us != 0 {
        s.push_str(&format!(".{us:06}"));
    }
    s
}

fn int_arg(v: Option<&Value>, default: i64, _name: &str) -> R<i64> {
    match v {
        None => Ok(default),
        Some(x) => to_int(x).ok_or_else(|| {
            Exception::type_error(format!(
                "'{}' object cannot be interpreted as an integer",
                x.type_name()
            ))
        }),
    }
}

fn num_arg(v: Option<&Value>) -> R<f64> {
    match v {
        None => Ok(0.0),
        Some(Value::Int(i)) => Ok(*i as f64),
        Some(Value::Bool(b)) => Ok(*b as i64 as f64),
        Some(Value::Float(f)) => Ok(*f),
        Some(o) => Err(Exception::type_error(format!(
            "unsupported type for timedelta component: {}",
            o.type_name()
        ))),
    }
}

pub(super) fn datetime(it: &mut Interpreter) -> Module {
    let m = Module::new("datetime");
    let classes: Rc<RefCell<Vec<Rc<Class>>>> = Rc::new(RefCell::new(Vec::new()));
    // index 0: timedelta, 1: date, 2: datetime
    let cls = classes.clone();
    let mk_delta = move |us: i64| -> Value {
        let c = cls.borrow()[0].clone();
        new_value_object(&c, Delta(us), delta_key(us))
    };
    let cls = classes.clone();
    let mk_date = move |d: NaiveDate| -> Value {
        let c = cls.borrow()[1].clone();
        new_value_object(&c, DateS(d), date_key(&d))
    };
    let cls = classes.clone();
    let mk_dt = move |d: NaiveDateTime| -> Value {
        let c = cls.borrow()[2].clone();
        new_value_object(&c, DateTimeS(d), datetime_key(&d))
    };
    let overflow = || Exception::new("OverflowError", "date value out of range");

    let md = mk_delta.clone();
    let md2 = mk_delta.clone();
    let md3 = mk_delta.clone();
    let md4 = mk_delta.clone();
    let md5 = mk_delta.clone();
    let timedelta = ClassBuilder::new(it, "timedelta", "datetime")
        .init(|_, inst, a| {
            let p = a.bind(
                "timedelta",
                &[
                    "days",
                    "seconds",
                    "microseconds",
                    "milliseconds",
                    "minutes",
                    "hours",
                    "weeks",
                ],
                0,
            )?;
            let total = num_arg(p[0].as_ref())? * 86_400e6
                + num_arg(p[1].as_ref())? * 1e6
                + num_arg(p[2].as_ref())?
                + num_arg(p[3].as_ref())? * 1e3
                + num_arg(p[4].as_ref())? * 60e6
                + num_arg(p[5].as_ref())? * 3600e6
                + num_arg(p[6].as_ref())? * 7.0 * 86_400e6;
            let us = total.round() as i64;
            inst.set_native(Delta(us));
            *inst.key.borrow_mut() = Some(delta_key(us));
            Ok(())
        })
        .method("__repr__", |_, this, _| {
            Ok(Value::str(&delta_repr(
                state_of::<Delta>(this, "timedelta")?.0,
            )))
        })
        .method("__str__", |_, this, _| {
            Ok(Value::str(&delta_str(
                state_of::<Delta>(this, "timedelta")?.0,
            )))
        })
        .method("total_seconds", |_, this, _| {
            Ok(Value::Float(
                state_of::<Delta>(this, "timedelta")?.0 as f64 / 1e6,
            ))
        })
        .method("__getattr__", |_, this, a| {
            let us = state_of::<Delta>(this, "timedelta")?.0;
            let (d, s, u) = delta_parts(us);
            match a.pos.first().and_then(|v| v.as_str()) {
                Some("days") => Ok(Value::Int(d)),
                Some("seconds") => Ok(Value::Int(s)),
                Some("microseconds") => Ok(Value::Int(u)),
                Some(n) => Err(Exception::new(
                    "AttributeError",
                    format!("'datetime.timedelta' object has no attribute '{n}'"),
                )),
                None => Err(Exception::type_error("attribute name must be string")),
            }
        })
        .method("__add__", move |_, this, a| {
            let x = state_of::<Delta>(this, "timedelta")?.0;
            match state::<Delta>(a.arg(0)?) {
                Some(y) => Ok(md(x.checked_add(y.0).ok_or_else(overflow)?)),
                None => Ok(Value::NotImplemented),
            }
        })
        .method("__sub__", move |_, this, a| {
            let x = state_of::<Delta>(this, "timedelta")?.0;
            match state::<Delta>(a.arg(0)?) {
                Some(y) => Ok(md2(x.checked_sub(y.0).ok_or_else(overflow)?)),
                None => Ok(Value::NotImplemented),
            }
        })
        .method("__mul__", move |_, this, a| {
            let x = state_of::<Delta>(this, "timedelta")?.0;
            match a.arg(0)? {
                Value::Int(n) => Ok(md3(x.checked_mul(*n).ok_or_else(overflow)?)),
                Value::Float(f) => Ok(md3((x as f64 * f).round() as i64)),
                _ => Ok(Value::NotImplemented),
            }
        })
        .method("__neg__", move |_, this, _| {
            Ok(md4(-state_of::<Delta>(this, "timedelta")?.0))
        })
        .method("__abs__", move |_, this, _| {
            Ok(md5(state_of::<Delta>(this, "timedelta")?.0.abs()))
        })
        .method("__bool__", |_, this, _| {
            Ok(Value::Bool(state_of::<Delta>(this, "timedelta")?.0 != 0))
        })
        .build();
    timedelta.set(
        "__rmul__",
        timedelta.lookup("__mul__").unwrap_or(Value::None),
    );
    add_ordering::<Delta>(&timedelta, |d| d.0 as i128);
    classes.borrow_mut().push(timedelta.clone());

    let mdate = mk_date.clone();
    let mdate2 = mk_date.clone();
    let mdate3 = mk_date.clone();
    let mdelta = mk_delta.clone();
    let date = ClassBuilder::new(it, "date", "datetime")
        .init(|_, inst, a| {
            let p = a.bind("date", &["year", "month", "day"], 3)?;
            let (y, mo, d) = (
                int_arg(p[0].as_ref(), 1, "year")?,
                int_arg(p[1].as_ref(), 1, "month")?,
                int_arg(p[2].as_ref(), 1, "day")?,
            );
            let date = make_date(y, mo, d)?;
            *inst.key.borrow_mut() = Some(date_key(&date));
            inst.set_native(DateS(date));
            Ok(())
        })
        .method("__repr__", |_, this, _| {
            let d = state_of::<DateS>(this, "date")?.0;
            Ok(Value::str(&format!(
                "datetime.date({}, {}, {})",
                d.year(),
                d.month(),
                d.day()
            )))
        })
        .method("__str__", |_, this, _| {
            Ok(Value::str(
                &state_of::<DateS>(this, "date")?
                    .0
                    .format("%Y-%m-%d")
                    .to_string(),
            ))
        })
        .method("isoformat", |_, this, _| {
            Ok(Value::str(
                &state_of::<DateS>(this, "date")?
                    .0
                    .format("%Y-%m-%d")
                    .to_string(),
            ))
        })
        .method("weekday", |_, this, _| {
            Ok(Value::Int(
                state_of::<DateS>(this, "date")?
                    .0
                    .weekday()
                    .num_days_from_monday() as i64,
            ))
        })
        .method("isoweekday", |_, this, _| {
            Ok(Value::Int(
                state_of::<DateS>(this, "date")?
                    .0
                    .weekday()
                    .number_from_monday() as i64,
            ))
        })
        .method("strftime", |_, this, a| {
            let f = arg_str(a.pos.first().unwrap_or(&Value::None), "format")?;
            strftime(
                &state_of::<DateS>(this, "date")?.0.and_time(NaiveTime::MIN),
                &f,
            )
        })
        .method("__format__", |it, this, a| {
            // f'{d:%Y}' is strftime; an empty spec is str(d)
            let f = arg_str(a.pos.first().unwrap_or(&Value::None), "format")?;
            if f.is_empty() {
                return Ok(Value::str(&it.str(this)?));
            }
            strftime(
                &state_of::<DateS>(this, "date")?.0.and_time(NaiveTime::MIN),
                &f,
            )
        })
        .method("__getattr__", |_, this, a| {
            let d = state_of::<DateS>(this, "date")?.0;
            match a.pos.first().and_then(|v| v.as_str()) {
                Some("year") => Ok(Value::Int(d.year() as i64)),
                Some("month") => Ok(Value::Int(d.month() as i64)),
                Some("day") => Ok(Value::Int(d.day() as i64)),
                Some(n) => Err(Exception::new(
                    "AttributeError",
                    format!("'datetime.date' object has no attribute '{n}'"),
                )),
                None => Err(Exception::type_error("attribute name must be string")),
            }
        })
        .method("__add__", move |_, this, a| {
            let d = state_of::<DateS>(this, "date")?.0;
            match state::<Delta>(a.arg(0)?) {
                Some(td) => Ok(mdate(
                    d.checked_add_signed(chrono::Duration::days(td.0.div_euclid(86_400_000_000)))
                        .ok_or_else(overflow)?,
                )),
                None => Ok(Value::NotImplemented),
            }
        })
        .method("__sub__", move |_, this, a| {
            let d = state_of::<DateS>(this, "date")?.0;
            if let Some(td) = state::<Delta>(a.arg(0)?) {
                return Ok(mdate2(
                    d.checked_sub_signed(chrono::Duration::days(td.0.div_euclid(86_400_000_000)))
                        .ok_or_else(overflow)?,
                ));
            }
            if let Some(o) = state::<DateS>(a.arg(0)?) {
                return Ok(mdelta((d - o.0).num_days() * 86_400_000_000));
            }
            Ok(Value::NotImplemented)
        })
        .attr(
            "today",
            Value::Descriptor(Rc::new((
                DescKind::Static,
                NativeFunction::value("today", move |_, _| {
                    Ok(mdate3(chrono::Local::now().date_naive()))
                }),
            ))),
        )
        .build();
    add_ordering::<DateS>(&date, |d| d.0.num_days_from_ce() as i128);
    classes.borrow_mut().push(date.clone());

    let mdt = mk_dt.clone();
    let mdt2 = mk_dt.clone();
    let mdt3 = mk_dt.clone();
    let mdt4 = mk_dt.clone();
    let mdt5 = mk_dt.clone();
    let mdelta2 = mk_delta.clone();
    let mdate4 = mk_date.clone();
    let datetime = ClassBuilder::with_bases("datetime", "datetime", vec![date.clone()])
        .init(|_, inst, a| {
            let p = a.bind(
                "datetime",
                &[
                    "year",
                    "month",
                    "day",
                    "hour",
                    "minute",
                    "second",
                    "microsecond",
                ],
                3,
            )?;
            let d = make_date(
                int_arg(p[0].as_ref(), 1, "year")?,
                int_arg(p[1].as_ref(), 1, "month")?,
                int_arg(p[2].as_ref(), 1, "day")?,
            )?;
            let (h, mi, s, us) = (
                int_arg(p[3].as_ref(), 0, "hour")?,
                int_arg(p[4].as_ref(), 0, "minute")?,
                int_arg(p[5].as_ref(), 0, "second")?,
                int_arg(p[6].as_ref(), 0, "microsecond")?,
            );
            let dt = d.and_time(make_time(h, mi, s, us)?);
            *inst.key.borrow_mut() = Some(datetime_key(&dt));
            inst.set_native(DateTimeS(dt));
            Ok(())
        })
        .method("__repr__", |_, this, _| {
            Ok(Value::str(&dt_repr(
                &state_of::<DateTimeS>(this, "datetime")?.0,
            )))
        })
        .method("__str__", |_, this, _| {
            Ok(Value::str(&dt_iso(
                &state_of::<DateTimeS>(this, "datetime")?.0,
                " ",
            )))
        })
        .method("isoformat", |_, this, a| {
            let sep = match a.pos.first().or(kw(&a, "sep")) {
                Some(v) => arg_str(v, "sep")?.to_string(),
                None => "T".into(),
            };
            Ok(Value::str(&dt_iso(
                &state_of::<DateTimeS>(this, "datetime")?.0,
                &sep,
            )))
        })
        .method("strftime", |_, this, a| {
            let f = arg_str(a.pos.first().unwrap_or(&Value::None), "format")?;
            strftime(&state_of::<DateTimeS>(this, "datetime")?.0, &f)
        })
        .method("__format__", |it, this, a| {
            let f = arg_str(a.pos.first().unwrap_or(&Value::None), "format")?;
            if f.is_empty() {
                return Ok(Value::str(&it.str(this)?));
            }
            strftime(&state_of::<DateTimeS>(this, "datetime")?.0, &f)
        })
        .method("date", move |_, this, _| {
            Ok(mdate4(state_of::<DateTimeS>(this, "datetime")?.0.date()))
        })
        .method("weekday", |_, this, _| {
            Ok(Value::Int(
                state_of::<DateTimeS>(this, "datetime")?
                    .0
                    .weekday()
                    .num_days_from_monday() as i64,
            ))
        })
        .method("timestamp", |_, this, _| {
            let dt = state_of::<DateTimeS>(this, "datetime")?.0;
            use chrono::TimeZone;
            let local = chrono::Local
                .from_local_datetime(&dt)
                .earliest()
                .ok_or_else(|| Exception::value_error("invalid local time"))?;
            Ok(Value::Float(local.timestamp_micros() as f64 / 1e6))
        })
        .method("__getattr__", |_, this, a| {
            let d = state_of::<DateTimeS>(this, "datetime")?.0;
            let name = a.pos.first().and_then(|v| v.as_str());
            match name {
                Some("year") => Ok(Value::Int(d.year() as i64)),
                Some("month") => Ok(Value::Int(d.month() as i64)),
                Some("day") => Ok(Value::Int(d.day() as i64)),
                _ => time_attr(&d.time(), name, "datetime.datetime"),
            }
        })
        .method("__add__", move |_, this, a| {
            let d = state_of::<DateTimeS>(this, "datetime")?.0;
            match state::<Delta>(a.arg(0)?) {
                Some(td) => Ok(mdt(d
                    .checked_add_signed(chrono::Duration::microseconds(td.0))
                    .ok_or_else(overflow)?)),
                None => Ok(Value::NotImplemented),
            }
        })
        .method("__sub__", move |_, this, a| {
            let d = state_of::<DateTimeS>(this, "datetime")?.0;
            if let Some(td) = state::<Delta>(a.arg(0)?) {
                return Ok(mdt2(
                    d.checked_sub_signed(chrono::Duration::microseconds(td.0))
                        .ok_or_else(overflow)?,
                ));
            }
            if let Some(o) = state::<DateTimeS>(a.arg(0)?) {
                return Ok(mdelta2((d - o.0).num_microseconds().unwrap_or(i64::MAX)));
            }
            Ok(Value::NotImplemented)
        })
        .attr(
            "now",
            Value::Descriptor(Rc::new((
                DescKind::Static,
                NativeFunction::value("now", move |_, _| {
                    Ok(mdt3(chrono::Local::now().naive_local()))
                }),
            ))),
        )
        .attr(
            "utcnow",
            Value::Descriptor(Rc::new((
                DescKind::Static,
                NativeFunction::value("utcnow", move |_, _| {
                    Ok(mdt4(chrono::Utc::now().naive_utc()))
                }),
            ))),
        )
        .attr(
            "fromisoformat",
            Value::Descriptor(Rc::new((
                DescKind::Static,
                NativeFunction::value("fromisoformat", move |_, a| {
                    let p = a.positional("fromisoformat", 1, 1)?;
                    let s = arg_str(&p[0], "fromisoformat: argument")?;
                    let parsed = NaiveDateTime::parse_from_str(&s, "%Y-%m-%dT%H:%M:%S%.f")
                        .or_else(|_| NaiveDateTime::parse_from_str(&s, "%Y-%m-%d %H:%M:%S%.f"))
                        .or_else(|_| NaiveDateTime::parse_from_str(&s, "%Y-%m-%dT%H:%M"))
                        .or_else(|_| {
                            NaiveDate::parse_from_str(&s, "%Y-%m-%d")
                                .map(|d| d.and_time(NaiveTime::MIN))
                        });
                    match parsed {
                        Ok(d) => Ok(mdt5(d)),
                        Err(_) => Err(Exception::value_error(format!(
                            "Invalid isoformat string: {}",
                            py_str_repr(&s)
                        ))),
                    }
                }),
            ))),
        )
        .build();
    add_ordering::<DateTimeS>(&datetime, |d| d.0.and_utc().timestamp_micros() as i128);
    classes.borrow_mut().push(datetime.clone());

    let cls = classes.clone();
    let mk_time = move |t: NaiveTime| -> Value {
        let c = cls.borrow()[3].clone();
        new_value_object(&c, TimeS(t), time_key(&t))
    };
    let mtime = mk_time.clone();
    let time = ClassBuilder::new(it, "time", "datetime")
        .init(|_, inst, a| {
            let p = a.bind(
                "time",
                &["hour", "minute", "second", "microsecond", "tzinfo"],
                0,
            )?;
            if p[4].as_ref().is_some_and(|v| !v.is_none()) {
                return Err(Exception::new(
                    "NotImplementedError",
                    "time zones are not supported by the harness's datetime",
                ));
            }
            let t = make_time(
                int_arg(p[0].as_ref(), 0, "hour")?,
                int_arg(p[1].as_ref(), 0, "minute")?,
                int_arg(p[2].as_ref(), 0, "second")?,
                int_arg(p[3].as_ref(), 0, "microsecond")?,
            )?;
            *inst.key.borrow_mut() = Some(time_key(&t));
            inst.set_native(TimeS(t));
            Ok(())
        })
        .method("__repr__", |_, this, _| {
            Ok(Value::str(&time_repr(&state_of::<TimeS>(this, "time")?.0)))
        })
        .method("__str__", |_, this, _| {
            Ok(Value::str(&time_iso(
                &state_of::<TimeS>(this, "time")?.0,
                "auto",
            )?))
        })
        .method("isoformat", |_, this, a| {
            let spec = match a.pos.first().or(kw(&a, "timespec")) {
                Some(v) => arg_str(v, "timespec")?.to_string(),
                None => "auto".into(),
            };
            Ok(Value::str(&time_iso(
                &state_of::<TimeS>(this, "time")?.0,
                &spec,
            )?))
        })
        .method("strftime", |_, this, a| {
            let f = arg_str(a.pos.first().unwrap_or(&Value::None), "format")?;
            time_strftime(this, &f)
        })
        .method("__format__", |it, this, a| {
            let f = arg_str(a.pos.first().unwrap_or(&Value::None), "format")?;
            if f.is_empty() {
                return Ok(Value::str(&it.str(this)?));
            }
            time_strftime(this, &f)
        })
        .method("__getattr__", |_, this, a| {
            let t = state_of::<TimeS>(this, "time")?.0;
            time_attr(&t, a.pos.first().and_then(|v| v.as_str()), "datetime.time")
        })
        .attr(
            "fromisoformat",
            Value::Descriptor(Rc::new((
                DescKind::Static,
                NativeFunction::value("fromisoformat", move |_, a| {
                    let p = a.positional("fromisoformat", 1, 1)?;
                    let s = arg_str(&p[0], "fromisoformat: argument")?;
                    let parsed = NaiveTime::parse_from_str(&s, "%H:%M:%S%.f")
                        .or_else(|_| NaiveTime::parse_from_str(&s, "%H:%M"));
                    match parsed {
                        Ok(t) if s.len() >= 5 => Ok(mtime(t)),
                        _ => Err(Exception::value_error(format!(
                            "Invalid isoformat string: {}",
                            py_str_repr(&s)
                        ))),
                    }
                }),
            ))),
        )
        .build();
    add_ordering::<TimeS>(&time, |t| time_micros(&t.0) as i128);
    classes.borrow_mut().push(time.clone());
    let mtime2 = mk_time.clone();
    datetime.set(
        "time",
        NativeFunction::value("datetime.time", move |_, a| {
            let dt = state_of::<DateTimeS>(a.arg(0)?, "datetime")?.0;
            Ok(mtime2(dt.time()))
        }),
    );
    let mdt6 = mk_dt.clone();
    datetime.set(
        "combine",
        Value::Descriptor(Rc::new((
            DescKind::Static,
            NativeFunction::value("combine", move |_, a| {
                let p = a.positional("combine", 2, 2)?;
                let d = state_of::<DateS>(&p[0], "date")?.0;
                let t = state_of::<TimeS>(&p[1], "time")?.0;
                Ok(mdt6(d.and_time(t)))
            }),
        ))),
    );

    m.set("timedelta", Value::Class(timedelta));
    m.set("time", Value::Class(time));
    m.set("date", Value::Class(date));
    m.set("datetime", Value::Class(datetime));
    m.set("MINYEAR", Value::Int(1));
    m.set("MAXYEAR", Value::Int(9999));
    m
}

fn make_date(y: i64, m: i64, d: i64) -> R<NaiveDate> {
    if !(1..=9999).contains(&y) {
        return Err(Exception::value_error(format!("year {y} is out of range")));
    }
    if !(1..=12).contains(&m) {
        return Err(Exception::value_error("month must be in 1..12"));
    }
    NaiveDate::from_ymd_opt(y as i32, m as u32, d as u32)
        .ok_or_else(|| Exception::value_error("day is out of range for month"))
}

fn strftime(dt: &NaiveDateTime, f: &str) -> R<Value> {
    use std::fmt::Write;
    let mut out = String::new();
    write!(out, "{}", dt.format(f)).map_err(|_| {
        Exception::value_error(format!("Invalid format string: {}", py_str_repr(f)))
    })?;
    Ok(Value::str(&out))
}
